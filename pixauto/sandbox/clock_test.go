package sandbox_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ofb-go/pixauto/pixauto/sandbox"
)

func TestManualClock(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c := sandbox.NewClock(start)
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() { c.Advance(time.Second) })
	}
	wg.Wait()
	if got := c.Now(); !got.Equal(start.Add(100 * time.Second)) {
		t.Fatalf("Now = %v", got)
	}
	c.Set(start)
	if got := c.Advance(-time.Minute); !got.Equal(start.Add(-time.Minute)) || !c.Now().Equal(got) {
		t.Fatalf("Advance(-1m) = %v", got)
	}
}

// TestLifetimes moves the bank clock across each lifetime boundary. The
// subtests share one bank and run in order.
func TestLifetimes(t *testing.T) {
	clock := sandbox.NewClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	b := sandbox.NewTest(t, sandbox.Config{Clock: clock})
	c := newClient(t, b, b.ITP)
	if b.Clock != clock {
		t.Fatal("Bank.Clock is not Config.Clock")
	}

	t.Run("request_uri lives 90 s", func(t *testing.T) {
		push := func() string {
			ar := c.newAuthReq("openid payments consent:" + c.createConsent("payments"))
			status, body := c.par(c.signPS256(ar.claims))
			if status != http.StatusCreated {
				t.Fatalf("PAR: %d %v", status, body)
			}
			return body["request_uri"].(string)
		}
		fresh, stale := push(), push()
		clock.Advance(90 * time.Second)
		if _, err := b.Authorize(context.Background(), c.authURL(fresh)); err != nil {
			t.Fatalf("at 90 s: %v", err)
		}
		clock.Advance(time.Second)
		if _, err := b.Authorize(context.Background(), c.authURL(stale)); err == nil {
			t.Fatal("request_uri accepted after 91 s")
		}
	})

	t.Run("authorization code lives 60 s", func(t *testing.T) {
		ar := c.newAuthReq("openid payments consent:" + c.createConsent("payments"))
		frag := c.pushAndAuthorize(ar)
		clock.Advance(61 * time.Second)
		status, body := c.exchange(ar, frag)
		wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_grant")
	})

	t.Run("access token lives 300 s", func(t *testing.T) {
		cc := c.ccToken("payments")
		clock.Advance(299 * time.Second)
		if resp := c.signedPost(consentsPath, cc, paymentConsentData()); resp.status != http.StatusCreated {
			t.Fatalf("at 299 s: %d %s", resp.status, resp.body)
		}
		clock.Advance(time.Second)
		wantAPIError(t, c.signedPost(consentsPath, cc, paymentConsentData()), http.StatusUnauthorized, "UNAUTHORIZED")
	})

	t.Run("refresh token outlives access tokens", func(t *testing.T) {
		ar := c.newAuthReq("openid recurring-payments recurring-consent:" + c.createConsent("recurring-payments"))
		_, tok := c.exchange(ar, c.pushAndAuthorize(ar))
		clock.Advance(30 * 24 * time.Hour)
		status, body := c.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}})
		if status != http.StatusOK {
			t.Fatalf("refresh after 30 days: %d %v", status, body)
		}
	})

	t.Run("an unauthorised consent expires after 5 min", func(t *testing.T) {
		consentID := c.createConsent("payments")
		clock.Advance(5 * time.Minute)
		ar := c.newAuthReq("openid payments consent:" + consentID)
		status, body := c.par(c.signPS256(ar.claims))
		wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_scope")
		get := c.do(resourceCall{method: http.MethodGet, path: consentsPath + "/" + consentID, token: c.ccToken("payments")})
		data := c.verifyBankJWS(get.body)["data"].(map[string]any)
		if data["status"] != "REJECTED" {
			t.Fatalf("consent %v", data)
		}
	})

	t.Run("consent expiring between PAR and authorization", func(t *testing.T) {
		ar := c.newAuthReq("openid payments consent:" + c.createConsent("payments"))
		clock.Advance(4*time.Minute + 30*time.Second)
		status, body := c.par(c.signPS256(ar.claims))
		if status != http.StatusCreated {
			t.Fatalf("PAR: %d %v", status, body)
		}
		clock.Advance(31 * time.Second) // request_uri alive, consent expired
		loc, err := b.Authorize(context.Background(), c.authURL(body["request_uri"].(string)))
		if err != nil {
			t.Fatal(err)
		}
		frag := fragment(t, loc, b.ITP.RedirectURI)
		if frag.Get("error") != "access_denied" || frag.Get("state") != ar.state || frag.Has("code") {
			t.Fatalf("fragment %v", frag)
		}
	})

	t.Run("software statement must be fresh", func(t *testing.T) {
		itp, err := b.NewITP(sandbox.ITPConfig{Unregistered: true})
		if err != nil {
			t.Fatal(err)
		}
		ssa, err := b.SoftwareStatement(itp)
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(5*time.Minute + time.Second)
		status, body := newClient(t, b, itp).register(registration(itp, ssa))
		wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_software_statement")
	})
}

func TestConfigValidation(t *testing.T) {
	t.Parallel()
	for _, d := range []time.Duration{299 * time.Second, 901 * time.Second} {
		if b, err := sandbox.New(sandbox.Config{AccessTokenLifetime: d}); err == nil {
			b.Close()
			t.Errorf("AccessTokenLifetime %s accepted", d)
		} else if !strings.Contains(err.Error(), "AccessTokenLifetime") {
			t.Errorf("error does not name the field: %v", err)
		}
	}
}
