package sandbox_test

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/ofb-go/pixauto/pixauto/sandbox"
)

// A bank starts on two loopback TLS ports; a client discovers its endpoints
// and must use the mTLS aliases for the token, PAR and registration calls.
func ExampleNew() {
	bank, err := sandbox.New(sandbox.Config{})
	if err != nil {
		panic(err)
	}
	defer bank.Close()

	// Bank.Client(itp) trusts the sandbox CA and presents the ITP's
	// transport certificate.
	hc := bank.Client(bank.ITP)
	resp, err := hc.Get(bank.Issuer + "/.well-known/openid-configuration")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Issuer  string            `json:"issuer"`
		Aliases map[string]string `json:"mtls_endpoint_aliases"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		panic(err)
	}
	fmt.Println(resp.StatusCode == http.StatusOK, doc.Issuer == bank.Issuer)
	fmt.Println(doc.Aliases["token_endpoint"] == bank.MTLSURL+"/token")
	fmt.Println(bank.ITP.ClientID != "")
	// Output:
	// true true
	// true
	// true
}
