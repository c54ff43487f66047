package auth

import (
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// AccessTokenLifetime is how long an access token from POST /auth/token is valid, the
// most SMART Backend Services allows.
const AccessTokenLifetime = 300 * time.Second

// accessTokenType is the typ header of access tokens (RFC 9068), which no client
// assertion carries: one cannot be passed off as the other.
const accessTokenType = "at+jwt"

// accessClaims are the claims of an access token beyond the registered ones.
type accessClaims struct {
	Scope    string `json:"scope"`
	ClientID string `json:"client_id"`
}

// issue signs an access token for client with scopes, valid from now for
// AccessTokenLifetime, issued by and for issuer.
func (k *signingKey) issue(issuer, client string, scopes Scopes, now time.Time) (string, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.kid}},
		(&jose.SignerOptions{}).WithType(accessTokenType))
	if err != nil {
		return "", err
	}
	claims := jwt.Claims{Issuer: issuer, Subject: client, Audience: jwt.Audience{issuer}, ID: rand.Text(),
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(AccessTokenLifetime))}
	return jwt.Signed(signer).Claims(claims).Claims(accessClaims{Scope: scopes.String(), ClientID: client}).Serialize()
}

// verify checks an access token: this key's ES256 signature, the at+jwt type, issuer
// and audience issuer, and that it is valid at now (to the second, with no leeway, as
// this server's own clock made it). It returns the client id and the scopes granted.
func (k *signingKey) verify(token, issuer string, now time.Time) (string, Scopes, error) {
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return "", Scopes{}, errors.New("not an access token of this server")
	}
	h := tok.Headers[0]
	if h.KeyID != k.kid {
		return "", Scopes{}, errors.New("signed by an unknown key")
	}
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != accessTokenType {
		return "", Scopes{}, errors.New("not an access token")
	}
	var std jwt.Claims
	var extra accessClaims
	if err := tok.Claims(&k.priv.PublicKey, &std, &extra); err != nil {
		return "", Scopes{}, errors.New("bad signature")
	}
	if std.Expiry == nil {
		return "", Scopes{}, errors.New("no expiry")
	}
	if err := std.ValidateWithLeeway(jwt.Expected{Issuer: issuer, AnyAudience: jwt.Audience{issuer}, Time: now}, 0); err != nil {
		return "", Scopes{}, fmt.Errorf("access token: %w", err)
	}
	if std.Expiry.Time().Sub(now) > AccessTokenLifetime {
		return "", Scopes{}, errors.New("valid for longer than an access token may be")
	}
	return std.Subject, ParseScopes(extra.Scope), nil
}
