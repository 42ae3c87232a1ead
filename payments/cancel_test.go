package payments_test

import (
	"errors"
	"testing"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/payments"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckCancel(t *testing.T) {
	t.Parallel()
	c := newConsent()
	receiver := consent.DocumentFor(creditorCNPJ)
	payer := consent.DocumentFor("12345678901")
	due := date(2026, 12, 10)
	scheduled := &payments.Payment{ID: "p1", Date: due, Status: payments.StatusSCHD}
	retry := &payments.Payment{ID: "p2", Date: due, Status: payments.StatusSCHD, OriginalRecurringPaymentID: "p1"}
	for _, tc := range []struct {
		name string
		p    *payments.Payment
		by   consent.Document
		now  time.Time
		want []error
	}{
		{"receiver before 22:00 of the day before", scheduled, receiver, brt(2026, 12, 9, 21, 59, 59), nil},
		{"receiver at 22:00:00", scheduled, receiver, brt(2026, 12, 9, 22, 0, 0), []error{payments.ErrCancelDeadline}},
		{"payer until 23:59:59 of the day before", scheduled, payer, brt(2026, 12, 9, 23, 59, 59), nil},
		{"payer on the due day", scheduled, payer, brt(2026, 12, 10, 0, 0, 0), []error{payments.ErrCancelDeadline}},
		{"pending payment", &payments.Payment{ID: "p3", Date: due, Status: payments.StatusPDNG}, receiver, brt(2026, 12, 1, 0, 0, 0), nil},
		{"settled payment", &payments.Payment{ID: "p4", Date: due, Status: payments.StatusACSC}, receiver, brt(2026, 12, 1, 0, 0, 0), []error{payments.ErrNotCancellable}},
		{"rejected payment", &payments.Payment{ID: "p5", Date: due, Status: payments.StatusRJCT}, receiver, brt(2026, 12, 1, 0, 0, 0), []error{payments.ErrNotCancellable}},
		{"receiver cancels a retry", retry, receiver, brt(2026, 12, 9, 12, 0, 0), nil},
		{"payer cancels a retry", retry, payer, brt(2026, 12, 9, 12, 0, 0), []error{payments.ErrPayerCannotCancelRetry}},
		{"bad document", scheduled, consent.Document{Identification: "123", Rel: consent.RelCPF}, brt(2026, 12, 1, 0, 0, 0), []error{payments.ErrInvalidFormat}},
		{"no payment", nil, receiver, brt(2026, 12, 1, 0, 0, 0), []error{payments.ErrMissing}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := payments.CheckCancel(tc.p, c, tc.by, tc.now)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			var ve payments.ValidationErrors
			require.ErrorAs(t, err, &ve)
			assert.Len(t, ve, len(tc.want))
			for _, w := range tc.want {
				assert.True(t, errors.Is(err, w), "%v is not %v", err, w)
			}
		})
	}
}
