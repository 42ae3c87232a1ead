package consent_test

import (
	"errors"
	"testing"

	"github.com/ofb-go/pixauto/consent"
	"github.com/stretchr/testify/require"
)

func TestValidationErrorMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "with field and item",
			err:  &consent.ValidationError{Field: "creditors[0].name", Rule: "a name is required", Item: 10, Err: consent.ErrRequired},
			want: "consent: creditors[0].name: a name is required (required, checklist item 10)"},
		{name: "schema limit without item",
			err:  &consent.ValidationError{Field: "journey.linkId", Rule: "must be a URN", Err: consent.ErrFormat},
			want: "consent: journey.linkId: must be a URN (malformed)"},
		{name: "whole object", err: &consent.ValidationError{Rule: "the request is nil", Err: consent.ErrRequired},
			want: "consent: the request is nil (required)"},
		{name: "no sentinel", err: &consent.ValidationError{Field: "x", Rule: "odd"},
			want: "consent: x: odd (invalid)"},
		{name: "one of many", err: consent.ValidationErrors{
			{Field: "status", Rule: `unknown status "X"`, Err: consent.ErrUnknownStatus},
		}, want: `consent: status: unknown status "X" (unknown status)`},
		{name: "many", err: consent.ValidationErrors{
			{Field: "a", Rule: "r1", Item: 9, Err: consent.ErrConflict},
			{Field: "b", Rule: "r2", Err: consent.ErrInvalidState},
		}, want: "consent: 2 validation errors: a: r1 (conflicting fields, checklist item 9); b: r2 (invalid state)"},
		{name: "empty list", err: consent.ValidationErrors{}, want: "consent: no validation errors"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, tt.err.Error())
		})
	}
}

func TestValidationErrorsWorkWithErrorsPackage(t *testing.T) {
	t.Parallel()
	first := &consent.ValidationError{Field: "a", Rule: "r", Item: 16, Err: consent.ErrConflict}
	second := &consent.ValidationError{Field: "b", Rule: "r", Item: 61, Err: consent.ErrInvalidState}
	var err error = consent.ValidationErrors{first, second}

	sentinels := []error{consent.ErrRequired, consent.ErrFormat, consent.ErrNotAllowed, consent.ErrConflict,
		consent.ErrOutOfRange, consent.ErrInvalidState, consent.ErrUnknownStatus}
	tests := []struct {
		name string
		want map[error]bool
	}{
		{name: "errors.Is finds the sentinels of every item", want: map[error]bool{
			consent.ErrConflict: true, consent.ErrInvalidState: true,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, s := range sentinels {
				require.Equal(t, tt.want[s], errors.Is(err, s), "%v", s)
			}
		})
	}

	var ve *consent.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Same(t, first, ve)
	require.Same(t, second, consent.ValidationErrors{first, second}.Field("b"))
	require.Nil(t, consent.ValidationErrors{first}.Field("c"))
	require.Equal(t, consent.ErrConflict, errors.Unwrap(first))
	for _, s := range sentinels {
		require.Contains(t, s.Error(), "consent: ")
	}
}
