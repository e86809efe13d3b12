package kiosk

import (
	"regexp"
	"testing"

	"github.com/comune-rc/sportello/assets"
	"github.com/comune-rc/sportello/hub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGroupsOfTheBuiltinSite(t *testing.T) {
	site := hub.BuiltinSite()
	for _, sv := range site.Services {
		_, ok := serviceGroup[sv.ID]
		assert.True(t, ok, "service %s has a group of its own", sv.ID)
	}
	groups := Groups(site)
	require.Len(t, groups, len(groupDefs), "every group has services")
	n := 0
	for _, g := range groups {
		assert.NotEmpty(t, g.Name.IT)
		assert.NotEmpty(t, g.Name.EN)
		assert.NotEmpty(t, g.Description.IT)
		assert.NotEmpty(t, g.Description.EN)
		for _, sv := range g.Services {
			assert.NotEmpty(t, sv.Description.IT, "%s has its one-line explanation", sv.ID)
		}
		n += len(g.Services)
	}
	assert.Equal(t, len(site.Services), n, "each service is in exactly one group")
	assert.Equal(t, []string{"certificati", "cie", "elettorale", "protocollo"}, ids(groups[0].Services))
}

func TestGroupFallbackByCategory(t *testing.T) {
	tests := []struct {
		sv   hub.Service
		want string
	}{
		{hub.Service{ID: "anagrafe_canina", Category: hub.Dispositivo}, "documenti"},
		{hub.Service{ID: "urp", Category: hub.Informativo}, "informazioni"},
		{hub.Service{ID: "buche", Category: hub.Segnalazione}, "segnalazioni"},
		{hub.Service{ID: "mediazione", Category: hub.Informativo, Room: true}, "consulenze"},
		{hub.Service{ID: "tributi", Category: hub.Informativo}, "tasse"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, GroupOf(tt.sv), tt.sv.ID)
	}
	// A site with only one kind of service shows only that group.
	site := &hub.Site{Services: []hub.Service{{ID: "a", Category: hub.Informativo}, {ID: "b", Category: hub.Informativo}}}
	g := Groups(site)
	require.Len(t, g, 1)
	assert.Equal(t, "informazioni", g[0].ID)
}

func TestPriorityChoicesCoverTheCategories(t *testing.T) {
	var got []hub.Priority
	for _, c := range priorityChoices {
		got = append(got, hub.Priority(c.Value))
	}
	assert.Equal(t, hub.Priorities[1:], got, "every category but none, in the engine's order")
}

func TestReportTopicsAreNamed(t *testing.T) {
	for _, tp := range hub.ReportTopics {
		l, ok := topicLabels[tp]
		assert.True(t, ok, "topic %s has a label", tp)
		assert.NotEmpty(t, l.EN)
	}
}

func TestTextsAreComplete(t *testing.T) {
	for k, v := range texts {
		assert.NotEmpty(t, v.IT, k)
		assert.NotEmpty(t, v.EN, k)
	}
	// Every key the scripts ask for exists.
	re := regexp.MustCompile(`both\('([a-z0-9_.]+)'`)
	for _, name := range []string{"kiosk.js", "track.js"} {
		js, ok := assets.Read(name)
		require.True(t, ok, name)
		ms := re.FindAllStringSubmatch(string(js), -1)
		require.NotEmpty(t, ms, name)
		for _, m := range ms {
			if m[1][len(m[1])-1] == '.' {
				continue // a prefix: 'err.' + code
			}
			_, ok := texts[m[1]]
			assert.True(t, ok, "%s asks for text %q", name, m[1])
		}
	}
	// The tracking page's table has what track.js asks for.
	for _, m := range re.FindAllStringSubmatch(string(mustRead(t, "track.js")), -1) {
		assert.Contains(t, trackMsgs, `"`+m[1]+`"`, "track.js text %q is sent to the tracking page", m[1])
	}
}

func mustRead(t *testing.T, name string) []byte {
	b, ok := assets.Read(name)
	require.True(t, ok)
	return b
}

func ids(svs []hub.Service) []string {
	var out []string
	for _, s := range svs {
		out = append(out, s.ID)
	}
	return out
}
