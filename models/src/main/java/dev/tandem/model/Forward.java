package dev.tandem.model;

import dev.tandem.kernels.Attention;
import dev.tandem.kernels.Ops;
import dev.tandem.kernels.Parallel;

/**
 * The forward pass over a batch of rows, each row one token of some sequence at some position.
 * Prefill is many consecutive rows of one sequence; decode is one row from each of several
 * sequences; both run the same code, so a position's logits are bitwise identical however it was
 * batched (DESIGN.md invariant 2). Weight matrices are multiplied with the whole batch at once
 * (each weight row is streamed once per batch). Holds scratch for up to {@code maxRows} rows;
 * one instance per worker thread group, not thread-safe.
 */
public final class Forward {
    private final ModelConfig c;
    private final Weights w;
    private final KvCache kv;
    private final Parallel pool;
    private final int maxRows;

    // Activations, row-major [rows][width].
    private final float[] x;      // [maxRows][dim] residual stream
    private final float[] xb;     // [maxRows][dim] normed input to a matmul
    private final float[] xb2;    // [maxRows][dim] matmul output added back to x
    private final float[] q;      // [maxRows][qDim]
    private final float[] k;      // [maxRows][kvDim]
    private final float[] v;      // [maxRows][kvDim]
    private final float[] att;    // [maxRows][qDim] attention output
    private final float[] hb;     // [maxRows][ffn] gate, then swiglu
    private final float[] hb2;    // [maxRows][ffn] up
    private final float[] normed;   // [logitRows][dim] final-normed rows that want logits
    private final float[] logitBuf; // [logitRows][vocab]
    private final int logitRows;    // rows whose logits are computed together (bounds the buffer for big vocabularies)
    private final float[][] cos;  // [maxRows][ropeDim/2]
    private final float[][] sin;  // [maxRows][ropeDim/2]

    // The current batch.
    private final Sequence[] rowSeq; // [maxRows]
    private final int[] rowPos;      // [maxRows]
    private final int[] rowTok;      // [maxRows] tokens of a prefillBatch
    private final int[] logitRowList; // [maxRows] rows of a prefillBatch that want logits
    private final int[] logitDest;    // [maxRows] where each goes in the caller's logits
    private final ThreadLocal<float[]> scores; // per thread: [all KV positions] attention scores
    private final ThreadLocal<float[]> widened; // per thread: [headDim] an F16 cache row widened to floats
    private final Matrix.Task mm = new Matrix.Task();
    private final AttentionTask attentionTask = new AttentionTask();

    public Forward(Model model, KvCache kv, Parallel pool, int maxRows) {
        this.c = model.config();
        this.w = model.weights();
        this.kv = kv;
        this.pool = pool;
        this.maxRows = maxRows;
        x = new float[maxRows * c.dim()];
        xb = new float[maxRows * c.dim()];
        xb2 = new float[maxRows * c.dim()];
        q = new float[maxRows * c.qDim()];
        k = new float[maxRows * c.kvDim()];
        v = new float[maxRows * c.kvDim()];
        att = new float[maxRows * c.qDim()];
        hb = new float[maxRows * c.ffn()];
        hb2 = new float[maxRows * c.ffn()];
        logitRows = Math.min(maxRows, 16);
        normed = new float[logitRows * c.dim()];
        logitBuf = new float[logitRows * c.vocab()];
        cos = new float[maxRows][c.ropeDim() / 2];
        sin = new float[maxRows][c.ropeDim() / 2];
        int positions = kv.pages * kv.pageSize;
        scores = ThreadLocal.withInitial(() -> new float[positions]);
        int headDim = c.headDim();
        widened = ThreadLocal.withInitial(() -> new float[headDim]);
        rowSeq = new Sequence[maxRows];
        rowPos = new int[maxRows];
        rowTok = new int[maxRows];
        logitRowList = new int[maxRows];
        logitDest = new int[maxRows];
    }

    public int maxRows() {
        return maxRows;
    }

    public KvCache kvCache() {
        return kv;
    }

    /**
     * Prefill: runs {@code count} tokens {@code tokens[from ..]} of {@code seq} at its next positions
     * (chunked by {@code maxRows}). When {@code logits} is non-null, writes the logits of every position
     * ({@code allLogits}: {@code [count][vocab]}) or of the last one ({@code [vocab]}).
     * The sequence must have room reserved in the KV cache.
     */
    public void prefill(Sequence seq, int[] tokens, int from, int count, float[] logits, boolean allLogits) {
        checkRoom(seq, seq.length + count);
        for (int done = 0; done < count; ) {
            int n = Math.min(maxRows, count - done);
            for (int r = 0; r < n; r++) {
                rowSeq[r] = seq;
                rowPos[r] = seq.length + r;
            }
            int firstLogit = logits == null ? n : allLogits ? 0 : (done + n == count ? n - 1 : n);
            run(tokens, from + done, n, firstLogit, logits, allLogits ? done * c.vocab() : 0);
            seq.length += n;
            done += n;
        }
    }

    /**
     * Decode: one token for each of {@code n} sequences, each at its next position; writes
     * {@code logits[i * vocab ..]} for sequence {@code i}.
     */
    public void decode(Sequence[] seqs, int[] tokens, int n, float[] logits) {
        if (n > maxRows) {
            throw new IllegalArgumentException("batch of " + n + " exceeds " + maxRows + " rows");
        }
        for (int r = 0; r < n; r++) {
            checkRoom(seqs[r], seqs[r].length + 1);
            rowSeq[r] = seqs[r];
            rowPos[r] = seqs[r].length;
        }
        run(tokens, 0, n, 0, logits, 0);
        for (int r = 0; r < n; r++) {
            seqs[r].length++;
        }
    }

    /**
     * Prefill of several sequences in one batch (rows in the order given): for each {@code i < count},
     * {@code len[i]} tokens {@code tokens[i][from[i] ..]} of {@code seqs[i]} at its next positions;
     * together at most {@link #maxRows()} rows. For each {@code i} with {@code wantLogits[i]}, writes the
     * logits of its last row into {@code logits[i * vocab ..]}. Each row's result is what
     * {@link #prefill} gives it (rows never mix: batch invariance). Every sequence must have room
     * reserved, and a sequence may appear once.
     */
    public void prefillBatch(Sequence[] seqs, int[][] tokens, int[] from, int[] len, int count, boolean[] wantLogits,
                             float[] logits) {
        int n = 0;
        for (int i = 0; i < count; i++) {
            checkRoom(seqs[i], seqs[i].length + len[i]);
            if (len[i] < 1 || n + len[i] > maxRows) {
                throw new IllegalArgumentException("prefill batch of " + (n + len[i]) + " rows (" + len[i]
                        + " for sequence " + i + ") exceeds " + maxRows + " or is empty");
            }
            for (int r = 0; r < len[i]; r++) {
                rowSeq[n + r] = seqs[i];
                rowPos[n + r] = seqs[i].length + r;
                rowTok[n + r] = tokens[i][from[i] + r];
            }
            n += len[i];
        }
        run(rowTok, 0, n, n, null, 0);
        int wanted = 0;
        for (int i = 0, end = 0; i < count; i++) {
            end += len[i];
            if (wantLogits[i]) {
                logitRowList[wanted] = end - 1;
                logitDest[wanted++] = i * c.vocab();
            }
        }
        emitLogits(logitRowList, logitDest, wanted, logits);
        for (int i = 0; i < count; i++) {
            seqs[i].length += len[i];
        }
    }

    /** Logits of rows {@code rows[0, count)} (final residuals in x) into {@code logits[dest[j] ..]}, logitRows rows per matmul. */
    private void emitLogits(int[] rows, int[] dest, int count, float[] logits) {
        int dim = c.dim();
        for (int g = 0; g < count; g += logitRows) {
            int m = Math.min(logitRows, count - g);
            for (int r = 0; r < m; r++) {
                Ops.rmsnorm(normed, r * dim, x, rows[g + r] * dim, w.outputNorm, 0, dim, c.rmsEps());
            }
            mm.run(pool, w.output, normed, m, logitBuf);
            for (int r = 0; r < m; r++) {
                System.arraycopy(logitBuf, r * c.vocab(), logits, dest[g + r], c.vocab());
            }
        }
    }

    private void checkRoom(Sequence seq, int positions) {
        if (positions > seq.pageCount * kv.pageSize) {
            throw new IllegalStateException("sequence has KV room for " + seq.pageCount * kv.pageSize + " positions, needs " + positions);
        }
    }

    /** Rows {@code [0, n)} with tokens {@code tokens[t0 ..]}; logits of rows {@code [firstLogit, n)} into {@code logits[logitOff ..]}. */
    private void run(int[] tokens, int t0, int n, int firstLogit, float[] logits, int logitOff) {
        int dim = c.dim(), qDim = c.qDim(), kvDim = c.kvDim(), hd = c.headDim();
        for (int r = 0; r < n; r++) {
            int token = tokens[t0 + r];
            if (token < 0 || token >= c.vocab()) {
                throw new IllegalArgumentException("token id " + token + " is outside the vocabulary (0.." + (c.vocab() - 1) + ")");
            }
            w.tokenEmbedding.row(token, x, r * dim);
            Ops.ropeAngles(rowPos[r], c.ropeDim(), c.ropeBase(), w.ropeFreqFactors, cos[r], sin[r]);
        }
        for (int l = 0; l < c.layers(); l++) {
            Weights.Layer layer = w.layers[l];
            // Attention block: x += Wo · attention(rope(Wq·norm(x)), rope(Wk·norm(x)), Wv·norm(x)).
            for (int r = 0; r < n; r++) {
                Ops.rmsnorm(xb, r * dim, x, r * dim, layer.attnNorm(), 0, dim, c.rmsEps());
            }
            mm.run(pool, xb, n, layer.wq(), q, layer.wk(), k, layer.wv(), v);
            for (int r = 0; r < n; r++) {
                if (layer.bq() != null) {
                    Ops.add(q, r * qDim, layer.bq(), 0, qDim);
                }
                if (layer.bk() != null) {
                    Ops.add(k, r * kvDim, layer.bk(), 0, kvDim);
                }
                if (layer.bv() != null) {
                    Ops.add(v, r * kvDim, layer.bv(), 0, kvDim);
                }
                if (layer.qNorm() != null) {
                    for (int h = 0; h < c.heads(); h++) {
                        Ops.rmsnorm(q, r * qDim + h * hd, q, r * qDim + h * hd, layer.qNorm(), 0, hd, c.rmsEps());
                    }
                    for (int h = 0; h < c.kvHeads(); h++) {
                        Ops.rmsnorm(k, r * kvDim + h * hd, k, r * kvDim + h * hd, layer.kNorm(), 0, hd, c.rmsEps());
                    }
                }
                Ops.rope(q, r * qDim, c.heads(), hd, c.ropeDim(), cos[r], sin[r], c.arch().neoxRope);
                Ops.rope(k, r * kvDim, c.kvHeads(), hd, c.ropeDim(), cos[r], sin[r], c.arch().neoxRope);
                int row = kv.rowOffset(rowSeq[r], rowPos[r]);
                kv.writeRow(l, row, k, r * kvDim, v, r * kvDim);
            }
            attention(l, n);
            mm.run(pool, layer.wo(), att, n, xb2);
            Ops.add(x, 0, xb2, 0, n * dim);
            // Feed-forward block: x += Wdown · (silu(Wgate·norm(x)) ⊙ Wup·norm(x)).
            for (int r = 0; r < n; r++) {
                Ops.rmsnorm(xb, r * dim, x, r * dim, layer.ffnNorm(), 0, dim, c.rmsEps());
            }
            mm.run(pool, xb, n, layer.gate(), hb, layer.up(), hb2);
            Ops.swiglu(hb, 0, hb2, 0, n * c.ffn());
            mm.run(pool, layer.down(), hb, n, xb2);
            Ops.add(x, 0, xb2, 0, n * dim);
        }
        if (logits == null) {
            return;
        }
        for (int g = firstLogit; g < n; g += logitRows) {
            int m = Math.min(logitRows, n - g);
            for (int r = 0; r < m; r++) {
                Ops.rmsnorm(normed, r * dim, x, (g + r) * dim, w.outputNorm, 0, dim, c.rmsEps());
            }
            mm.run(pool, w.output, normed, m, logitBuf);
            System.arraycopy(logitBuf, 0, logits, logitOff + (g - firstLogit) * c.vocab(), m * c.vocab());
        }
    }

    /** Causal attention of every (row, query head) over its sequence's cached positions {@code [0, pos]}. */
    private void attention(int layer, int n) {
        attentionTask.layer = layer;
        attentionTask.units = n * c.heads();
        pool.forRange(n * c.heads(), 1, attentionTask);
    }

    /** Attention over a range of (row, head) units; preallocated so a step allocates nothing. */
    private final class AttentionTask implements Parallel.RangeTask {
        int layer;
        int units;

        @Override
        public void run(int start, int end) {
            int heads = c.heads(), hd = c.headDim(), qDim = c.qDim(), kvDim = c.kvDim();
            int group = heads / c.kvHeads();
            float scale = (float) (1.0 / Math.sqrt(hd));
            boolean half = kv.type == KvCache.Type.F16;
            float[] keys = half ? null : kv.keys[layer], values = half ? null : kv.values[layer];
            short[] keysHalf = half ? kv.keysHalf[layer] : null, valuesHalf = half ? kv.valuesHalf[layer] : null;
            for (int i = start; i < end; i++) {
                // last rows first: in a prompt they attend over the most positions, so the parts taken
                // first are the longest and the threads finish together (longest-first scheduling)
                int u = units - 1 - i;
                int r = u / heads, h = u % heads;
                int len = rowPos[r] + 1;
                float[] s = scores.get();
                if (s.length < len) {
                    s = new float[Math.max(len, 2 * s.length)];
                    scores.set(s);
                }
                if (half) {
                    Attention.attendHalf(q, r * qDim + h * hd, hd, keysHalf, valuesHalf, rowSeq[r].pages, kv.pageSize, kvDim,
                            (h / group) * hd, len, scale, s, widened.get(), att, r * qDim + h * hd);
                } else {
                    Attention.attend(q, r * qDim + h * hd, hd, keys, values, kv.keySegments[layer], kv.valueSegments[layer],
                            rowSeq[r].pages, kv.pageSize, kvDim, (h / group) * hd, len, scale, s, att, r * qDim + h * hd);
                }
            }
        }
    }
}
