package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/ofb-go/pixauto/pixauto/server/api"
)

// The request validator: every request is checked against the embedded
// OpenAPI description before a handler sees it — parameters, content type
// and body (types, patterns, lengths, enums, required members, and no
// unknown member anywhere) — and every violation is reported as a field of
// a validation_failed problem.

type route struct {
	method, path string
	segments     []string // "" for a {param} segment
	params       []string // the names of the {param} segments, in order
	secured      bool
	kin          *routers.Route
}

type routeTable struct {
	routes []*route
	opts   *openapi3filter.Options
}

func loadRoutes() (*routeTable, error) {
	doc, err := api.GetSpec()
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, err
	}
	t := &routeTable{opts: &openapi3filter.Options{
		MultiError:         true,
		KeepValidatedValue: true,
		AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, // the dispatcher authenticates
	}}
	paths := doc.Paths.InMatchingOrder()
	sort.Strings(paths)
	for _, p := range paths {
		item := doc.Paths.Value(p)
		for method, op := range item.Operations() {
			rt := &route{method: method, path: p}
			for _, seg := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
				if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
					rt.segments = append(rt.segments, "")
					rt.params = append(rt.params, seg[1:len(seg)-1])
				} else {
					rt.segments = append(rt.segments, seg)
				}
			}
			sec := doc.Security
			if op.Security != nil {
				sec = *op.Security
			}
			rt.secured = len(sec) > 0
			rt.kin = &routers.Route{Spec: doc, Path: p, PathItem: item, Method: method, Operation: op}
			t.routes = append(t.routes, rt)
		}
	}
	return t, nil
}

// match returns the route of method and path with its path parameters,
// or, when the path exists under other methods only, those methods.
func (t *routeTable) match(method, escapedPath string) (*route, map[string]string, []string) {
	segs := strings.Split(strings.TrimPrefix(escapedPath, "/"), "/")
	var allowed []string
	for _, rt := range t.routes {
		params, ok := rt.matchPath(segs)
		if !ok {
			continue
		}
		if rt.method == method || (method == http.MethodHead && rt.method == http.MethodGet) {
			return rt, params, nil
		}
		allowed = append(allowed, rt.method)
	}
	return nil, nil, allowed
}

func (rt *route) matchPath(segs []string) (map[string]string, bool) {
	if len(segs) != len(rt.segments) {
		return nil, false
	}
	params := map[string]string{}
	n := 0
	for i, want := range rt.segments {
		if want != "" {
			if segs[i] != want {
				return nil, false
			}
			continue
		}
		v, err := url.PathUnescape(segs[i])
		if err != nil || v == "" {
			return nil, false
		}
		params[rt.params[n]] = v
		n++
	}
	return params, true
}

// validate checks r against the route's operation; it returns nil or the
// problem to answer.
func (t *routeTable) validate(r *http.Request, rt *route, params map[string]string) *Problem {
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: rt.kin, Options: t.opts}
	err := openapi3filter.ValidateRequest(r.Context(), in)
	if err == nil {
		return nil
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return &Problem{Status: http.StatusRequestEntityTooLarge, Code: CodeTooLarge, Title: "Content Too Large", Detail: "The request body is too large.", cause: err}
	}
	var fields []fieldErr
	var fatal *Problem
	flatten(err, "", &fields, &fatal)
	if fatal != nil {
		return fatal
	}
	if len(fields) == 0 {
		return &Problem{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Title: "Bad Request", Detail: "The request does not match the API.", cause: err}
	}
	p := fieldProblem(http.StatusBadRequest, nil)
	seen := map[fieldErr]bool{}
	for _, f := range fields {
		if !seen[f] {
			seen[f] = true
			p.Fields = append(p.Fields, api.FieldError{Field: f.field, Message: f.message})
		}
	}
	p.cause = err
	return p
}

type fieldErr struct{ field, message string }

// propertyInReason finds the member named by a "required" or
// "additionalProperties" schema error, whose JSON pointer names the
// enclosing object.
var propertyInReason = regexp.MustCompile(`property "([^"]*)"`)

// flatten turns kin-openapi's error tree into fields; a malformed body or
// a wrong content type is fatal (invalid_request).
func flatten(err error, param string, out *[]fieldErr, fatal **Problem) {
	var (
		multi  openapi3.MultiError
		reqErr *openapi3filter.RequestError
		schErr *openapi3.SchemaError
		parse  *openapi3filter.ParseError
	)
	switch {
	case errors.As(err, &multi):
		for _, e := range multi {
			flatten(e, param, out, fatal)
		}
	case errors.As(err, &reqErr):
		if reqErr.Parameter != nil {
			param = reqErr.Parameter.Name
		}
		switch {
		case reqErr.Err == nil:
			*out = append(*out, fieldErr{fieldName(param, nil), reqErr.Reason})
		case errors.Is(reqErr.Err, openapi3filter.ErrInvalidRequired):
			if reqErr.RequestBody != nil {
				*fatal = &Problem{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Title: "Bad Request", Detail: "A JSON body is required.", cause: err}
				return
			}
			*out = append(*out, fieldErr{param, "is required"})
		case errors.Is(reqErr.Err, openapi3filter.ErrInvalidEmptyValue):
			*out = append(*out, fieldErr{param, "must not be empty"})
		case errors.As(reqErr.Err, &parse) && reqErr.RequestBody != nil:
			*fatal = &Problem{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Title: "Bad Request", Detail: "The body is not valid JSON.", cause: err}
		case reqErr.RequestBody != nil && strings.Contains(reqErr.Reason, "Content-Type"):
			*fatal = &Problem{Status: http.StatusUnsupportedMediaType, Code: CodeInvalidRequest, Title: "Unsupported Media Type", Detail: "The body must be application/json.", cause: err}
		case reqErr.RequestBody != nil && strings.Contains(reqErr.Reason, "failed to decode"):
			*fatal = &Problem{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Title: "Bad Request", Detail: "The body is not valid JSON.", cause: err}
		default:
			flatten(reqErr.Err, param, out, fatal)
		}
	case errors.As(err, &schErr):
		f := fieldName(param, schErr.JSONPointer())
		switch schErr.SchemaField {
		case "required", "additionalProperties":
			if m := propertyInReason.FindStringSubmatch(schErr.Reason); m != nil {
				f = joinField(f, m[1])
			}
		}
		msg := schErr.Reason
		if schErr.SchemaField == "additionalProperties" {
			msg = "is not a member of this object"
		}
		*out = append(*out, fieldErr{f, msg})
	case errors.As(err, &parse):
		var path []string
		for _, v := range parse.Path() {
			path = append(path, fmt.Sprint(v))
		}
		*out = append(*out, fieldErr{fieldName(param, path), "cannot be parsed: " + parse.Reason})
	default:
		*out = append(*out, fieldErr{fieldName(param, nil), err.Error()})
	}
}

// fieldName is the dotted path of a body member, or the parameter's name.
func fieldName(param string, pointer []string) string {
	f := param
	for _, p := range pointer {
		f = joinField(f, p)
	}
	if f == "" {
		return "body"
	}
	return f
}

func joinField(prefix, name string) string {
	if prefix == "" {
		return name
	}
	if name != "" && strings.Trim(name, "0123456789") == "" {
		return prefix + "[" + name + "]"
	}
	return prefix + "." + name
}
