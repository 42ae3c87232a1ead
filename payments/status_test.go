package payments_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/payments"
)

func TestStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                                        string
		s                                           payments.Status
		known, final, failed, cancellable, occupies bool
	}{
		{name: "RCVD", s: payments.StatusRCVD, known: true, occupies: true},
		{name: "ACCP", s: payments.StatusACCP, known: true, occupies: true},
		{name: "ACPD", s: payments.StatusACPD, known: true, occupies: true},
		{name: "ACSC", s: payments.StatusACSC, known: true, final: true, occupies: true},
		{name: "RJCT", s: payments.StatusRJCT, known: true, final: true, failed: true},
		{name: "CANC", s: payments.StatusCANC, known: true, final: true, failed: true},
		{name: "PDNG", s: payments.StatusPDNG, known: true, cancellable: true, occupies: true},
		{name: "SCHD", s: payments.StatusSCHD, known: true, cancellable: true, occupies: true},
		{name: "unknown kept as-is", s: payments.Status("HOLD"), occupies: true},
		{name: "empty", s: "", occupies: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.known, tt.s.Known())
			require.Equal(t, tt.final, tt.s.Final())
			require.Equal(t, tt.failed, tt.s.Failed())
			require.Equal(t, tt.cancellable, tt.s.Cancellable())
			require.Equal(t, tt.occupies, tt.s.OccupiesCycle())
		})
	}
}

// TestRejectionCodeTable1 pins the classification of every code to Table 1
// of the retry rules (spec digest §5.7) and checklist item 56.
func TestRejectionCodeTable1(t *testing.T) {
	t.Parallel()
	type row struct{ counts, intraday, newE2EID, holderSameDay, never bool }
	var (
		newE2E   = row{counts: true, intraday: true, newE2EID: true}
		holder   = row{counts: true, intraday: true, holderSameDay: true}
		extraday = row{counts: true}
		never    = row{never: true}
	)
	tests := []struct {
		name string
		code payments.RejectionCode
		want row
	}{
		{name: "NAO_INFORMADO", code: payments.RejectionNaoInformado, want: newE2E},
		{name: "PAGAMENTO_RECUSADO_SPI", code: payments.RejectionPagamentoRecusadoSPI, want: newE2E},
		{name: "FALHA_INFRAESTRUTURA_SPI", code: payments.RejectionFalhaInfraestruturaSPI, want: newE2E},
		{name: "FALHA_INFRAESTRUTURA_ICP", code: payments.RejectionFalhaInfraestruturaICP, want: newE2E},
		{name: "FALHA_INFRAESTRUTURA_PSP_RECEBEDOR", code: payments.RejectionFalhaInfraestruturaPSPRecebedor, want: newE2E},
		{name: "SALDO_INSUFICIENTE", code: payments.RejectionSaldoInsuficiente, want: holder},
		{name: "VALOR_ACIMA_LIMITE", code: payments.RejectionValorAcimaLimite, want: holder},
		{name: "PAGAMENTO_RECUSADO_DETENTORA", code: payments.RejectionPagamentoRecusadoDetentora, want: holder},
		{name: "FALHA_INFRAESTRUTURA_DETENTORA", code: payments.RejectionFalhaInfraestruturaDetentora, want: extraday},
		{name: "LIMITE_VALOR_TRANSACAO_CONSENTIMENTO_EXCEDIDO", code: payments.RejectionLimiteValorTransacaoConsentimentoExcedido, want: extraday},
		{name: "DETALHE_TENTATIVA_INVALIDO", code: payments.RejectionDetalheTentativaInvalido, want: row{intraday: true}},
		{name: "VALOR_INVALIDO", code: payments.RejectionValorInvalido, want: never},
		{name: "PAGAMENTO_DIVERGENTE_CONSENTIMENTO", code: payments.RejectionPagamentoDivergenteConsentimento, want: never},
		{name: "CONSENTIMENTO_INVALIDO", code: payments.RejectionConsentimentoInvalido, want: never},
		{name: "TITULARIDADE_INCONSISTENTE", code: payments.RejectionTitularidadeInconsistente, want: never},
		{name: "LIMITE_PERIODO_VALOR_EXCEDIDO", code: payments.RejectionLimitePeriodoValorExcedido, want: never},
		{name: "LIMITE_PERIODO_QUANTIDADE_EXCEDIDO", code: payments.RejectionLimitePeriodoQuantidadeExcedido, want: never},
		{name: "LIMITE_VALOR_TOTAL_CONSENTIMENTO_EXCEDIDO", code: payments.RejectionLimiteValorTotalConsentimentoExcedido, want: never},
		{name: "LIMITE_TENTATIVAS_EXCEDIDO", code: payments.RejectionLimiteTentativasExcedido, want: never},
		{name: "FORA_PRAZO_PERMITIDO", code: payments.RejectionForaPrazoPermitido, want: never},
		{name: "DETALHE_PAGAMENTO_INVALIDO", code: payments.RejectionDetalhePagamentoInvalido, want: never},
		{name: "CONSENTIMENTO_REVOGADO", code: payments.RejectionConsentimentoRevogado, want: never},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.name, string(tt.code))
			require.True(t, tt.code.Known())
			got := row{
				counts:        tt.code.CountsAsAttempt(),
				intraday:      tt.code.IntradayRetryAllowed(),
				newE2EID:      tt.code.NeedsNewE2EID(),
				holderSameDay: tt.code.HolderRetriesSameDay(),
				never:         tt.code.NeverRetry(),
			}
			require.Equal(t, tt.want, got)
		})
	}
	t.Run("item 56 codes are never retried", func(t *testing.T) {
		t.Parallel()
		for _, c := range []payments.RejectionCode{"VALOR_INVALIDO", "PAGAMENTO_DIVERGENTE_CONSENTIMENTO",
			"CONSENTIMENTO_INVALIDO", "TITULARIDADE_INCONSISTENTE", "LIMITE_TENTATIVAS_EXCEDIDO", "FORA_PRAZO_PERMITIDO"} {
			require.True(t, c.NeverRetry(), c)
		}
	})
	t.Run("unknown code kept and counted conservatively", func(t *testing.T) {
		t.Parallel()
		c := payments.RejectionCode("MOTIVO_NOVO_2030")
		require.False(t, c.Known())
		require.True(t, c.CountsAsAttempt())
		require.False(t, c.NeverRetry())
		require.False(t, c.NeedsNewE2EID())
		require.False(t, c.IntradayRetryAllowed())
		require.False(t, c.HolderRetriesSameDay())
	})
}
