/** Options of the survey: the loader's `data-*` attributes (see the widget README). */
export interface InitOptions {
  /** Site id on the edge. */
  site: string;
  /** Edge base URL (`POST {endpoint}/v1/responses`). */
  endpoint: string;
  /** Where `nps.js` and its files are served; default `endpoint`. */
  assets?: string;
  /** Survey id within the site; default `nps`. */
  survey?: string;
  locale?: string;
  brand?: string;
  mode?: 'float' | 'inline';
  /** CSS selector of the inline container (`mode: 'inline'`). */
  target?: string;
  position?: 'bottom-right' | 'bottom-left';
  /** `load`, `delay:SECONDS`, `scroll:PERCENT`, `exit`, `manual`. */
  trigger?: string;
  sample?: number;
  recontactAnswered?: number;
  recontactDismissed?: number;
  theme?: 'light' | 'dark' | 'auto';
  accent?: string;
  page?: 'full';
  review?: string;
  /** The page's CSP nonce, if its `script-src` uses one. */
  nonce?: string;
}

/** The customer's context (`nps('identify', …)`). */
export interface User {
  id?: string;
  account?: string;
  order?: string;
  email?: string;
  /** The shop server's HMAC of `id` (sites with signed identity). */
  signature?: string;
  properties?: Record<string, string | number | boolean>;
}

export type Segment = 'detractor' | 'passive' | 'promoter';

export interface SurveyEvent {
  site: string;
  survey: string;
  id?: string;
  score?: number;
  segment?: Segment;
  comment?: string;
}

export interface ErrorEvent {
  reason: 'csp-wasm';
  missing: string;
}

export interface Events {
  shown: SurveyEvent;
  answered: SurveyEvent;
  submitted: SurveyEvent;
  dismissed: SurveyEvent;
  error: ErrorEvent;
}

export function init(options: InitOptions): void;
export function identify(user: User): void;
export function show(): void;
export function hide(): void;
export function reset(): void;
/** Listens to a survey event; returns the function that stops listening. */
export function on<K extends keyof Events>(type: K, listener: (detail: Events[K]) => void): () => void;
