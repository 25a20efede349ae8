package dev.tandem.model;

import dev.tandem.kernels.GgmlType;
import dev.tandem.kernels.Parallel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Prefix caching in {@link KvCache}: indexed prompt pages reused bitwise, reference-counted, evicted on demand. */
class PrefixCacheTest {
    static final int PAGE = 4;

    /** A made model (no shared files needed): 2 layers, dim 64, context 512. */
    static Model tiny(Path dir) throws Exception {
        Path file = dir.resolve("tiny.gguf");
        ModelMaker.make(new ModelMaker.Spec("llama", 64, 2, 4, 2, 96, 0, GgmlType.Q8_0, 11L, null, 0, 512, false), file);
        Model m = Model.load(file);
        vocab = m.config().vocab();
        return m;
    }

    static int vocab;

    static int[] tokens(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = r.nextInt(256); // within every made vocabulary
        }
        return t;
    }

    /** Prefill with the longest indexed prefix attached, then index the prompt's full pages. @return the last position's logits */
    static float[] prefillCached(Forward fw, KvCache kv, Sequence s, int[] prompt, int[] attachedOut) {
        int attached = kv.attachPrefix(s, prompt, (prompt.length - 1) / PAGE);
        attachedOut[0] = attached;
        assertTrue(kv.reserve(s, prompt.length + 1));
        float[] logits = new float[vocab];
        fw.prefill(s, prompt, attached, prompt.length - attached, logits, false);
        kv.publishPrefix(s, prompt, prompt.length / PAGE);
        return logits;
    }

    @Test
    void aSharedPrefixIsReusedAndGivesBitwiseTheSameLogits(@TempDir Path dir) throws Exception {
        try (Model model = tiny(dir); Parallel pool = new Parallel(1, "test")) {
            KvCache kv = new KvCache(model.config(), PAGE, 64);
            Forward fw = new Forward(model, kv, pool, 16);
            int[] system = tokens(13, 1);                  // 3 full pages and one token
            int[] a = concat(system, tokens(6, 2)), b = concat(system, tokens(9, 3));

            Sequence sa = new Sequence(64, PAGE);
            int[] attached = new int[1];
            float[] la = prefillCached(fw, kv, sa, a, attached);
            assertEquals(0, attached[0], "nothing indexed yet");
            assertEquals(4, kv.prefixPages(), "a's 19 tokens fill 4 pages");

            Sequence sb = new Sequence(64, PAGE);
            float[] lb = prefillCached(fw, kv, sb, b, attached);
            assertEquals(12, attached[0], "b reuses the 3 pages of the shared 13-token prefix");
            for (int p = 0; p < 3; p++) {
                assertEquals(sa.pages[p], sb.pages[p], "page " + p + " shared");
                assertEquals(3, kv.refs(sa.pages[p]), "page " + p + ": a, b and the index hold it");
            }
            assertFalse(sa.pages[3] == sb.pages[3], "the page where the prompts part is each one's own");

            // The reference: each prompt alone in a fresh cache, nothing cached.
            assertArrayEquals(alone(model, a), la, "a");
            assertArrayEquals(alone(model, b), lb, "b with the attached prefix vs computed whole");

            // Released, indexed pages are idle: counted free, and reused by a prompt that starts the same way.
            kv.release(sa);
            kv.release(sb);
            assertEquals(kv.pages, kv.freePages(), "every page free or idle");
            Sequence sc = new Sequence(64, PAGE);
            float[] lc = prefillCached(fw, kv, sc, a, attached);
            assertEquals(16, attached[0], "a again: its 4 full pages, all but the last token's");
            assertArrayEquals(la, lc, "a again, from the cache");
            kv.release(sc);
            assertEquals(kv.pages, kv.freePages());
        }
    }

    @Test
    void idlePagesAreEvictedWhenAReservationNeedsThem(@TempDir Path dir) throws Exception {
        try (Model model = tiny(dir); Parallel pool = new Parallel(1, "test")) {
            KvCache kv = new KvCache(model.config(), PAGE, 10);
            Forward fw = new Forward(model, kv, pool, 16);
            int[] attached = new int[1];
            int[] a = tokens(24, 5);                       // 6 pages indexed
            Sequence sa = new Sequence(40, PAGE);
            prefillCached(fw, kv, sa, a, attached);
            kv.release(sa);
            assertEquals(6, kv.prefixPages());
            assertEquals(10, kv.freePages());

            Sequence big = new Sequence(40, PAGE);           // needs 9 pages: 4 free + 5 evicted
            assertTrue(kv.reserve(big, 36));
            assertEquals(1, kv.prefixPages(), "five evicted, leaves first: the first page stays");
            assertEquals(1, kv.freePages());
            Sequence more = new Sequence(40, PAGE);
            assertFalse(kv.reserve(more, 8), "2 pages wanted, 1 left");
            kv.release(big);
            Sequence again = new Sequence(40, PAGE);
            assertEquals(4, kv.attachPrefix(again, a, 5), "the first page survived eviction");
            kv.release(again);
            assertEquals(kv.pages, kv.freePages());
        }
    }

    @Test
    void aPrefixIsFoundOnlyUnderTheTokensBeforeIt(@TempDir Path dir) throws Exception {
        try (Model model = tiny(dir); Parallel pool = new Parallel(1, "test")) {
            KvCache kv = new KvCache(model.config(), PAGE, 32);
            Forward fw = new Forward(model, kv, pool, 16);
            int[] attached = new int[1];
            int[] a = tokens(12, 7);
            Sequence sa = new Sequence(40, PAGE);
            prefillCached(fw, kv, sa, a, attached);
            int[] shifted = concat(new int[] {a[0] ^ 1}, Arrays.copyOfRange(a, 1, a.length)); // first token differs
            Sequence sb = new Sequence(40, PAGE);
            assertEquals(0, kv.attachPrefix(sb, shifted, 2), "the second page's tokens match, but not the prefix before them");
            int[] partial = Arrays.copyOf(a, 7);             // one full page in common
            assertEquals(4, kv.attachPrefix(new Sequence(40, PAGE), partial, 1));
        }
    }

    private static float[] alone(Model model, int[] prompt) {
        KvCache kv = new KvCache(model.config(), PAGE, 64);
        Sequence s = new Sequence(64, PAGE);
        assertTrue(kv.reserve(s, prompt.length));
        float[] logits = new float[model.config().vocab()];
        try (Parallel pool = new Parallel(1, "ref")) {
            new Forward(model, kv, pool, 16).prefill(s, prompt, 0, prompt.length, logits, false);
        }
        return logits;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
