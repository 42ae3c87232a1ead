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

// propertyInReason finds the unknown member named by a schema error,
// whose JSON pointer names the enclosing object.
var propertyInReason = regexp.MustCompile(`property "([^"]*)"`)

// flatten turns kin-openapi's error tree into fields; a malformed body or
// a wrong content type is fatal (invalid_request).
func flatten(err error, param string, out *[]fieldErr, fatal **Problem) {
	switch e := err.(type) {
	case openapi3.MultiError:
		for _, sub := range e {
			flatten(sub, param, out, fatal)
		}
	case *openapi3filter.RequestError:
		if e.Parameter != nil {
			param = e.Parameter.Name
		}
		var parse *openapi3filter.ParseError
		switch {
		case e.Err == nil:
			*out = append(*out, fieldErr{fieldName(param, nil), e.Reason})
		case errors.Is(e.Err, openapi3filter.ErrInvalidRequired):
			if e.RequestBody != nil {
				*fatal = &Problem{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Title: "Bad Request", Detail: "A JSON body is required.", cause: err}
				return
			}
			*out = append(*out, fieldErr{param, "is required"})
		case errors.Is(e.Err, openapi3filter.ErrInvalidEmptyValue):
			*out = append(*out, fieldErr{param, "must not be empty"})
		case e.RequestBody != nil && strings.Contains(e.Reason, "Content-Type"):
			*fatal = &Problem{Status: http.StatusUnsupportedMediaType, Code: CodeInvalidRequest, Title: "Unsupported Media Type", Detail: "The body must be application/json.", cause: err}
		case e.RequestBody != nil && (errors.As(e.Err, &parse) || strings.Contains(e.Reason, "failed to decode")):
			*fatal = &Problem{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Title: "Bad Request", Detail: "The body is not valid JSON.", cause: err}
		default:
			flatten(e.Err, param, out, fatal)
		}
	case *openapi3.SchemaError:
		if e.Origin != nil {
			// allOf, oneOf: the inner errors carry the full path.
			flatten(e.Origin, param, out, fatal)
			return
		}
		f := fieldName(param, e.JSONPointer())
		msg := e.Reason
		if strings.HasSuffix(e.Reason, " is unsupported") {
			if m := propertyInReason.FindStringSubmatch(e.Reason); m != nil {
				f = joinField(strings.TrimPrefix(f, "body"), m[1])
			}
			msg = "is not a member of this object"
		}
		if e.SchemaField == "required" {
			msg = "is required"
		}
		*out = append(*out, fieldErr{f, msg})
	case *openapi3filter.ParseError:
		var path []string
		for _, v := range e.Path() {
			path = append(path, fmt.Sprint(v))
		}
		*out = append(*out, fieldErr{fieldName(param, path), "cannot be parsed: " + e.Reason})
	default:
		if u := errors.Unwrap(err); u != nil {
			flatten(u, param, out, fatal)
			return
		}
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
