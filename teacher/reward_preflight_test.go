package teacher_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/syllabus-dev/syllabus/teacher"
	"github.com/syllabus-dev/syllabus/teacher/teachertest"
)

// The reward preflight fails in one line naming the cause for each way a
// reward server can be set up wrong, and passes a server that scores (or
// one that merely objects to the probe, or is busy).
func TestRewardPreflight(t *testing.T) {
	rm := teachertest.StartPooling("rm", map[[2]string]float64{teachertest.Key("What is 1+1?", "2"): 0.9})
	defer rm.Close()
	picky := teachertest.StartPooling("rm", nil) // answers 400 "no score" to the probe
	defer picky.Close()
	answer := func(status int, body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()

	for _, tc := range []struct {
		name, url, model string
		want             error
		says             string
	}{
		{"scores", rm.URL, "rm", nil, ""},
		{"objects to the probe", picky.URL, "rm", nil, ""},
		{"busy", answer(503, `{"message":"overloaded"}`), "rm", nil, ""},
		{"unknown model", rm.URL, "other", teacher.ErrMisconfigured, `unknown model: reward.model "other"`},
		{"URL with /v1", rm.URL + "/v1", "rm", teacher.ErrMisconfigured, "wrong URL"},
		{"nothing listening", closed, "rm", teacher.ErrMisconfigured, "connection refused"},
		{"bad key", answer(401, `{"message":"invalid key"}`), "rm", teacher.ErrMisconfigured, "bad API key"},
		{"quota", answer(429, `{"error":{"message":"You exceeded your current quota","code":"insufficient_quota"}}`), "rm", teacher.ErrQuotaExhausted, "insufficient_quota"},
		{"not a reward model", answer(400, `{"message":"The model does not support Pooling API"}`), "rm", teacher.ErrMisconfigured, "does not score conversations"},
	} {
		cfg := teacher.DefaultRewardConfig()
		cfg.URL, cfg.Model = tc.url, tc.model
		err := teacher.RewardPreflight(context.Background(), cfg, nil)
		switch {
		case tc.want == nil && err != nil:
			t.Errorf("%s: %v, want no error", tc.name, err)
		case tc.want != nil && (!errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.says)):
			t.Errorf("%s: %v, want %v saying %q", tc.name, err, tc.want, tc.says)
		case err != nil && strings.Contains(err.Error(), "\n"):
			t.Errorf("%s: more than one line: %q", tc.name, err)
		}
	}
}
