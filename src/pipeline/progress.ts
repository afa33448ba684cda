/** What the core reports while it works; the CLI decides how (or whether) to show it. */
export type ScanProgress =
  | { stage: 'resolve'; done: number; total: number; name?: string }
  | { stage: 'fetch'; done: number; total: number; name?: string }
  | { stage: 'image'; message: string }
  | { stage: 'sandbox'; message: string }
  | { stage: 'script'; index: number; total: number; package: string; event: string; command: string }
  | { stage: 'script-done'; index: number; total: number; package: string; event: string; outcome: string; seconds: number }
  /** Install: how many packages with scripts the verdict cache already knew. */
  | { stage: 'cache'; hits: number; total: number }
  | { stage: 'verdict'; verdict: 'allow' | 'review' | 'block' }
  | { stage: 'reify'; message: string };

export type ProgressListener = (ev: ScanProgress) => void;
