package crmsync

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// TokenSource gets and caches OAuth2 client-credentials access tokens
// (POST token URL with grant_type=client_credentials, client_id and
// client_secret in the form, as Salesforce wants). Unlike a plain
// oauth2.TokenSource it can drop a token the peer refused, so that a 401
// is followed by exactly one refresh. Bindings of one CRM may share it.
type TokenSource struct {
	cfg  clientcredentials.Config
	http *http.Client
	mu   sync.Mutex
	tok  *oauth2.Token
}

// NewTokenSource returns a token source for the client at tokenURL.
func NewTokenSource(tokenURL, clientID, clientSecret string, httpClient *http.Client) *TokenSource {
	if httpClient == nil {
		httpClient = defaultHTTPClient()
	}
	return &TokenSource{
		cfg:  clientcredentials.Config{ClientID: clientID, ClientSecret: clientSecret, TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInParams},
		http: httpClient,
	}
}

// Token returns a valid access token, fetching one when needed.
func (s *TokenSource) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok.Valid() {
		return s.tok.AccessToken, nil
	}
	tok, err := s.cfg.Token(context.WithValue(ctx, oauth2.HTTPClient, s.http))
	if err != nil {
		return "", tokenError(ctx, err)
	}
	s.tok = tok
	return tok.AccessToken, nil
}

// Invalidate drops tok if it is the cached token (the peer refused it).
func (s *TokenSource) Invalidate(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok != nil && s.tok.AccessToken == tok {
		s.tok = nil
	}
}

const tokenOp = "POST /services/oauth2/token"

func tokenError(ctx context.Context, err error) *DeliveryError {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		de := &DeliveryError{Class: Retryable, Op: tokenOp, Status: re.Response.StatusCode, Code: "auth", Err: err}
		code, msg := errorText(re.Body)
		de.Message = firstOf(msg, code, "token request refused")
		if re.ErrorCode != "" {
			de.Message = re.ErrorCode + ": " + de.Message
		}
		switch st := re.Response.StatusCode; {
		case st == http.StatusTooManyRequests || st == http.StatusServiceUnavailable:
			de.Code = "throttled"
			de.RetryAfter = parseRetryAfter(re.Response.Header.Get("Retry-After"), time.Now())
		case st >= 500:
			de.Code = "token_unavailable"
		}
		// A refused client is a configuration problem: it stays retryable,
		// so the breaker pauses the peer and visits flow again once the
		// credentials are fixed (no dead letters for every visit).
		return de
	}
	de := transportError(ctx, tokenOp, err, false)
	de.Ambiguous = false // getting a token changes nothing
	return de
}
