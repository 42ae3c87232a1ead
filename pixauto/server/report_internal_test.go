package server

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ofb-go/pixauto/consent"
)

func TestMaskDocument(t *testing.T) {
	for doc, want := range map[string]string{
		"52998224725":    "***.***.*47-25",
		"11444777000161": "**.***.***/**01-61",
		"12ABC34501DE35": "**.***.***/**DE-35",
		"123456":         "**3456",
		"1234":           "****",
		"":               "",
	} {
		assert.Equal(t, want, maskDocument(doc), doc)
	}
}

func TestCSVText(t *testing.T) {
	for in, want := range map[string]string{
		"=1+1": "'=1+1", "+55 11": "'+55 11", "-5": "'-5", "@SUM(A1)": "'@SUM(A1)", "\tx": "'\tx", "\rx": "'\rx",
		"mensalidade": "mensalidade", "a=b": "a=b", "": "",
	} {
		assert.Equal(t, want, csvText(in), "%q", in)
	}
	assert.Equal(t, "1234,56", brAmount(123456))
	assert.Equal(t, "0,05", brAmount(5))
	assert.Equal(t, "05/01/2027", brDate(consent.MustDate("2027-01-05")))
	assert.Equal(t, "", brDate(consent.Date{}))
}
