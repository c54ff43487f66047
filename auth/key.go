package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/go-jose/go-jose/v4"
)

// SigningKeyFile is the name of the server's access-token signing key in the data
// directory: a P-256 private key, PKCS #8 in PEM.
const SigningKeyFile = "token-signing.key"

// minRSABits is the smallest RSA key a client may sign with.
const minRSABits = 2048

// parseJWKS parses a client's JSON Web Key Set and keeps the public half of each key.
// Every key must be RSA (at least 2048 bits) or EC P-384, usable for signatures, and
// have a kid, since assertions name their key by it.
func parseJWKS(data []byte) (*jose.JSONWebKeySet, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, err
	}
	if len(set.Keys) == 0 {
		return nil, errors.New("no keys")
	}
	for i, k := range set.Keys {
		if k.KeyID == "" {
			return nil, fmt.Errorf("keys[%d]: a kid is required", i)
		}
		if k.Use != "" && k.Use != "sig" {
			return nil, fmt.Errorf("keys[%d] (%s): use %q is not sig", i, k.KeyID, k.Use)
		}
		pub := k.Public()
		switch key := pub.Key.(type) {
		case *rsa.PublicKey:
			if key.N.BitLen() < minRSABits {
				return nil, fmt.Errorf("keys[%d] (%s): RSA keys need at least %d bits", i, k.KeyID, minRSABits)
			}
			if k.Algorithm != "" && k.Algorithm != string(jose.RS384) {
				return nil, fmt.Errorf("keys[%d] (%s): alg %q; RSA keys sign RS384", i, k.KeyID, k.Algorithm)
			}
		case *ecdsa.PublicKey:
			if key.Curve != elliptic.P384() {
				return nil, fmt.Errorf("keys[%d] (%s): EC keys must be on P-384 (ES384)", i, k.KeyID)
			}
			if k.Algorithm != "" && k.Algorithm != string(jose.ES384) {
				return nil, fmt.Errorf("keys[%d] (%s): alg %q; P-384 keys sign ES384", i, k.KeyID, k.Algorithm)
			}
		default:
			return nil, fmt.Errorf("keys[%d] (%s): want an RSA or EC public key", i, k.KeyID)
		}
		set.Keys[i] = pub
	}
	return &set, nil
}

// signingKey is the server's key for its access tokens.
type signingKey struct {
	priv *ecdsa.PrivateKey
	kid  string // the key's JWK thumbprint (RFC 7638)
}

// loadSigningKey reads the server's signing key from dir, creating it on first use.
func loadSigningKey(dir string) (*signingKey, bool, error) {
	path := filepath.Join(dir, SigningKeyFile)
	data, created, err := secretFile(path, func() ([]byte, error) {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return nil, err
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
	})
	if err != nil {
		return nil, false, err
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, false, fmt.Errorf("%s: not a PEM private key", path)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", path, err)
	}
	priv, ok := parsed.(*ecdsa.PrivateKey)
	if !ok || priv.Curve != elliptic.P256() {
		return nil, false, fmt.Errorf("%s: not a P-256 key", path)
	}
	jwk := jose.JSONWebKey{Key: &priv.PublicKey}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, false, err
	}
	return &signingKey{priv: priv, kid: base64.RawURLEncoding.EncodeToString(tp)}, created, nil
}
