/** x rounded to `digits` decimals, as a number (for reports and JSON). */
export const round = (x: number, digits = 4) => Number(x.toFixed(digits));
