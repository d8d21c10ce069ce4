/** Compile a Vega-Lite spec and render it to an SVG string (no browser, no canvas). */
export declare function toSvg(spec: object): Promise<string>;
