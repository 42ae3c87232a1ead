package deps

import (
	_ "github.com/getkin/kin-openapi/openapi3"
	_ "github.com/go-jose/go-jose/v4"
	_ "github.com/google/uuid"
	_ "github.com/rickar/cal/v2/br"
	_ "github.com/stretchr/testify/require"
	_ "golang.org/x/oauth2"
)
