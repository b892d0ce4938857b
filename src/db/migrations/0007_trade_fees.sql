-- Fees per trade (D78): what the fill cost in commissions and exchange, clearing and regulatory
-- fees, in the account currency, summed; positive = paid, negative = a rebate. NULL = not known
-- (the broker feed gives none, or a trade recorded before this column). Realized P&L (FIFO,
-- src/risk/pnl.ts) is net of these; `risk` shows them beside it.
ALTER TABLE trades ADD COLUMN IF NOT EXISTS fees double precision;
