/**
 * Canonical JSON written in pieces, as UTF-8 chunks. Small structural text is gathered and
 * encoded together; the items of a long array are stringified natively in one call per piece
 * (building the text one item at a time was several times slower). `stepIds` counts the ids written since the last
 * step ended, across sets, so that steps stay even when a snapshot holds many small sets.
 */
export class ChunkWriter {
  readonly chunks: Uint8Array[] = [];
  stepIds = 0;
  private pending = "";
  private readonly encoder = new TextEncoder();

  text(piece: string): void {
    this.pending += piece;
  }

  /** `values` as `JSON.stringify` writes them between an array's brackets. */
  items(values: readonly unknown[]): void {
    if (values.length === 0) return;
    this.flush();
    const bytes = this.encoder.encode(JSON.stringify(values));
    this.chunks.push(bytes.subarray(1, bytes.length - 1));
  }

  flush(): void {
    if (this.pending.length === 0) return;
    this.chunks.push(this.encoder.encode(this.pending));
    this.pending = "";
  }
}
