package dev.tandem.engine;

import dev.tandem.model.KvCache;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;

/**
 * Moves a prefilled sequence from the prefill pool to the decode worker, by one of two strategies:
 * <ul>
 *   <li>{@link Strategy#HANDOFF}: both sides use one {@link KvCache}; the sequence's page table
 *       changes owner with the request (published through the hand-off queue), 0 bytes move;</li>
 *   <li>{@link Strategy#COPY}: each side has its own cache; the prompt's K/V are copied into the
 *       decode-side pages reserved at admission, and the prefill-side pages are freed — what
 *       crossing from one chip (or machine) to another costs. The prefill side then has a cache
 *       of its own, as large as the decode side's: KV memory doubles.</li>
 * </ul>
 * Meters: {@code tandem_kv_migration_seconds} — from the start of the migration on the prefill
 * thread to the decode worker taking the sequence in between two steps (the whole hand-over a
 * request sees: the copy, if any, and the wait for the current decode step to end);
 * {@code tandem_kv_migration_bytes_total} — bytes copied.
 */
public final class KvMigration {
    /** {@code --kv-migration handoff|copy}. */
    public enum Strategy {
        HANDOFF,
        COPY;

        /** The strategy a command-line word names ({@code handoff}, {@code copy}), case-insensitive. */
        public static Strategy parse(String s) {
            for (Strategy v : values()) {
                if (v.name().equalsIgnoreCase(s.trim())) {
                    return v;
                }
            }
            throw new IllegalArgumentException("unknown KV migration \"" + s + "\"; expected handoff or copy");
        }
    }

    final Strategy strategy;
    final KvCache prefillKv;
    final KvCache decodeKv; // the same object as prefillKv for HANDOFF
    private final Timer seconds;
    private final Counter bytes;

    KvMigration(Strategy strategy, KvCache prefillKv, KvCache decodeKv, MeterRegistry registry) {
        if ((strategy == Strategy.HANDOFF) != (prefillKv == decodeKv)) {
            throw new IllegalArgumentException(strategy + " migration with " + (prefillKv == decodeKv ? "one" : "two") + " KV caches");
        }
        this.strategy = strategy;
        this.prefillKv = prefillKv;
        this.decodeKv = decodeKv;
        this.seconds = Timer.builder("tandem.kv.migration").description("Prefill to decode hand-over of one sequence")
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofNanos(1_000))
                .maximumExpectedValue(Duration.ofSeconds(10))
                .register(registry);
        this.bytes = Counter.builder("tandem.kv.migration.bytes").description("KV bytes copied by migrations")
                .baseUnit("bytes").register(registry);
    }

    /**
     * Prefill thread: makes {@code r}'s decode-side page table hold its prompt's K/V. Afterwards
     * {@code r.seq} is in {@link #decodeKv} and {@code r.spare} is null. Stamps the start time.
     *
     * @return bytes copied
     */
    long start(ActiveRequest r) {
        if (r.spare == null && r.migrationStartNanos != 0) { // a choice of n > 1 already copied by fork
            return 0;
        }
        r.migrationStartNanos = System.nanoTime();
        if (strategy == Strategy.HANDOFF) {
            return 0;
        }
        long n = prefillKv.copyTo(r.seq, decodeKv, r.spare, r.sharedCopied, r.seq.length());
        prefillKv.release(r.seq);
        r.seq = r.spare;
        r.seqKv = decodeKv;
        r.spare = null;
        bytes.increment(n);
        return n;
    }

    /**
     * Prefill thread, n > 1: gives {@code follower} (another choice of {@code leader}'s request) the
     * prompt's K/V once the leader's prefill is done. The follower shares the leader's full prompt
     * pages (reference-counted, since admission) — in handoff mode the leader's pages, in copy mode
     * the leader's decode-side pages — and owns the rest. Handoff: only the positions in the
     * prompt's last, partly filled page are copied into the follower's own page (copy on write).
     * Copy: the shared full pages cross into decode memory once (the first fork fills the leader's
     * decode-side pages; the leader's migration then skips them), and each choice copies only the
     * partly filled last page, as its migration (counted in the migration bytes).
     */
    void fork(ActiveRequest leader, ActiveRequest follower) {
        int length = leader.seq.length();
        int shared = (length / prefillKv.pageSize) * prefillKv.pageSize; // the positions of the shared full pages
        if (strategy == Strategy.HANDOFF) {
            prefillKv.copyPositions(leader.seq, follower.seq, shared, length);
            return;
        }
        follower.migrationStartNanos = System.nanoTime();
        long n = 0;
        if (leader.sharedCopied < shared) {
            n += prefillKv.copyTo(leader.seq, decodeKv, leader.spare, leader.sharedCopied, shared);
            leader.sharedCopied = shared;
        }
        n += prefillKv.copyTo(leader.seq, decodeKv, follower.spare, shared, length);
        follower.seq = follower.spare;
        follower.seqKv = decodeKv;
        follower.spare = null;
        bytes.increment(n);
    }

    /** Decode thread, between steps: the sequence has joined the decode worker. */
    void finish(ActiveRequest r, long now) {
        EngineMetrics.record(seconds, now - r.migrationStartNanos);
    }
}
