/**
 * Every limit the engine enforces, as a named constant. The engine's integers
 * must stay exact: a notional (price × quantity × tick value) is at most
 * `notionalMinorMax`, so that notional × basis points stays below 2^53.
 */
export const priceTicksMax = 2 ** 40;
export const qtyLotsMax = 2 ** 40;
export const notionalMinorMax = 900_000_000_000;
export const bpsMax = 10_000;
export const feeBpsMax = 1_000;
export const tickValueMinorMax = 1_000_000;
export const cashMinorMax = Number.MAX_SAFE_INTEGER;
export const positionLotsMax = 2 ** 50;
export const openOrdersPerAccountMax = 100_000;
export const ordersPerSecondPerAccountMax = 1_000_000;
export const clientOrderIdCharsMax = 64;
export const stopOrdersPerInstrumentMax = 10_000;
/** The order-rate throttle counts orders per window of this length. */
export const rateWindowUs = 1_000_000;
/** Longest payment id on CreditCash / DebitCash (the codec's bound). */
export const paymentIdCharsMax = 64;
/** How long an applied payment id is remembered (refusing repeats): 30 days, in µs. */
export const paymentRetentionUs = 30 * 86_400_000_000;
