package httpapi_test

import (
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

var metricName = regexp.MustCompile(`\bsportello_[a-z0-9_]+`)

// TestMonitoringDocsMatchMetrics: the example alert rules and Grafana
// dashboard use only metrics the hub serves, and docs/monitoring.md lists
// every metric it serves.
func TestMonitoringDocsMatchMetrics(t *testing.T) {
	h := newTestHub(t)
	status, body := h.device("").do(http.MethodGet, "/metrics", nil)
	require.Equal(t, http.StatusOK, status)
	served := map[string]bool{}
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "# TYPE ") {
			served[strings.Fields(line)[2]] = true
		}
	}
	for _, want := range []string{"sportello_service_level_ratio", "sportello_printer_paper_out", "sportello_display_online", "sportello_czrm_backlog"} {
		require.True(t, served[want], "/metrics has no %s", want)
	}

	raw, err := os.ReadFile("../../docs/monitoring/alerts.yml")
	require.NoError(t, err)
	var rules struct {
		Groups []struct {
			Name  string
			Rules []struct {
				Alert, Expr string
			}
		}
	}
	require.NoError(t, yaml.Unmarshal(raw, &rules))
	alerts := map[string]bool{}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			require.NotEmpty(t, r.Alert)
			alerts[r.Alert] = true
			names := metricName.FindAllString(r.Expr, -1)
			require.NotEmpty(t, names, "alert %s uses no sportello metric", r.Alert)
			for _, n := range names {
				require.True(t, served[n], "alert %s uses %s, which /metrics does not serve", r.Alert, n)
			}
		}
	}
	for _, a := range []string{"SportelloServiceLevelBreach", "SportelloPrinterOutOfPaper", "SportelloDisplaySilent", "SportelloCzRMBacklog"} {
		require.True(t, alerts[a], "no alert %s", a)
	}

	raw, err = os.ReadFile("../../docs/monitoring/grafana-dashboard.json")
	require.NoError(t, err)
	var dash struct {
		Title  string
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	require.NoError(t, json.Unmarshal(raw, &dash), "the dashboard is not valid JSON")
	require.NotEmpty(t, dash.Panels)
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, n := range metricName.FindAllString(tg.Expr, -1) {
				require.True(t, served[n], "panel %q uses %s, which /metrics does not serve", p.Title, n)
			}
		}
	}

	doc, err := os.ReadFile("../../docs/monitoring.md")
	require.NoError(t, err)
	for n := range served {
		require.Contains(t, string(doc), "`"+n+"`", "docs/monitoring.md does not document %s", n)
	}
}
