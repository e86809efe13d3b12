package crmsync

import (
	"net/http"
	"testing"
	"time"
)

// TestStaleAnswersClassified: the version refusals of the reference peer
// and of a Salesforce validation rule are Superseded; anything else keeps
// its class.
func TestStaleAnswersClassified(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		want   Class
	}{
		{"peer 409", 409, `[{"errorCode":"STALE_VERSION","message":"Sync_Seq__c 3 is lower than the stored 5","fields":["Sync_Seq__c"]}]`, Superseded},
		{"412 STALE_VERSION", 412, `[{"errorCode":"STALE_VERSION","message":"older"}]`, Superseded},
		{"salesforce validation rule", 400, `[{"errorCode":"FIELD_CUSTOM_VALIDATION_EXCEPTION","message":"STALE_VERSION: a newer state of this visit is recorded","fields":[]}]`, Superseded},
		{"another validation rule", 400, `[{"errorCode":"FIELD_CUSTOM_VALIDATION_EXCEPTION","message":"Service__c is required"}]`, Permanent},
		{"another 409", 409, `[{"errorCode":"DUPLICATE_VALUE","message":"duplicate"}]`, Permanent},
		{"5xx stays retryable", 503, `[{"errorCode":"STALE_VERSION","message":"?"}]`, Retryable},
		{"problem json", 409, `{"code":"STALE_VERSION","detail":"older"}`, Superseded},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			de := httpError("PATCH /x", &http.Response{StatusCode: c.status, Header: http.Header{}}, []byte(c.body), time.Now())
			if de.Class != c.want {
				t.Fatalf("%d %s: class %s, want %s", c.status, c.body, de.Class, c.want)
			}
		})
	}
}
