package dev.tandem.bench.loadgen;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * The token ids prompts are made of: real vocabulary tokens of ordinary text, so that a prompt of n ids is
 * n tokens to the server. By default the ids are what the server's {@code /tokenize} (llama-server's API:
 * {@code {"content"}} → {@code {"tokens"}}) makes of an English passage; {@code --token-range LO:HI} gives a
 * range instead (for servers without {@code /tokenize}). For the chat endpoint each id's text is fetched once
 * with {@code /detokenize}.
 */
final class Vocabulary {
    /** Plain prose: its tokenization is a sample of everyday vocabulary (words, punctuation, digits). */
    static final String PASSAGE = """
            The harbour town woke slowly. Fishermen carried their nets down to the boats while the baker opened \
            his shutters and the smell of bread drifted over the square. Children ran past the fountain, shouting \
            about a ship that had arrived in the night with red sails and a captain nobody knew. By nine o'clock \
            the market was full: apples, onions, cheese, rope, lamps, old books and brass instruments whose purpose \
            no one could explain. A teacher counted 37 chairs for the evening meeting, then 12 more, and wrote the \
            numbers on a board. Questions followed. Why had the bridge closed? Who would repair the lighthouse \
            before winter? The mayor promised answers, although his notes were short and his voice was tired. \
            Later, rain came from the west, quiet at first and then heavy, and the streets emptied except for a \
            dog that waited patiently outside the library until someone opened the door.""";

    private final int[] ids;        // the pool, ascending
    private final String[] pieces;  // [ids.length] text of each id, or null when not needed

    Vocabulary(int[] ids, String[] pieces) {
        if (ids.length == 0) {
            throw new IllegalArgumentException("no token ids to build prompts from");
        }
        this.ids = ids;
        this.pieces = pieces;
    }

    /** Ids {@code lo} (inclusive) to {@code hi} (exclusive). */
    static Vocabulary range(int lo, int hi) {
        if (lo < 0 || hi <= lo) {
            throw new IllegalArgumentException("--token-range: expected 0 ≤ LO < HI, got " + lo + ":" + hi);
        }
        int[] ids = new int[hi - lo];
        Arrays.setAll(ids, i -> lo + i);
        return new Vocabulary(ids, null);
    }

    /** The distinct ids the server's {@code /tokenize} gives for {@link #PASSAGE}. */
    static Vocabulary fromServer(StreamClient client) throws IOException, InterruptedException {
        JsonNode r;
        try {
            r = client.postJson("/tokenize", Map.of("content", PASSAGE, "add_special", false));
        } catch (IOException e) {
            throw new IOException("cannot ask the server for vocabulary tokens (" + e.getMessage()
                    + "); give a range of ordinary token ids with --token-range LO:HI", e);
        }
        TreeSet<Integer> set = new TreeSet<>();
        for (JsonNode t : r.path("tokens")) {
            set.add(t.isObject() ? t.path("id").asInt() : t.asInt());
        }
        if (set.size() < 16) {
            throw new IOException("/tokenize gave only " + set.size() + " distinct tokens for a 150-word passage; use --token-range LO:HI");
        }
        return new Vocabulary(set.stream().mapToInt(Integer::intValue).toArray(), null);
    }

    /** The same pool with each id's text, from {@code /detokenize} (for chat prompts). */
    Vocabulary withPieces(StreamClient client) throws IOException, InterruptedException {
        String[] p = new String[ids.length];
        for (int i = 0; i < ids.length; i++) {
            p[i] = client.postJson("/detokenize", Map.of("tokens", List.of(ids[i]))).path("content").asText("");
        }
        return new Vocabulary(ids, p);
    }

    /** {@code n} ids drawn uniformly from the pool. */
    int[] prompt(int n, SplittableRandom rng) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = ids[rng.nextInt(ids.length)];
        }
        return out;
    }

    /** The text of {@code prompt} (needs {@link #withPieces}). */
    String text(int[] prompt) {
        if (pieces == null) {
            throw new IllegalStateException("the vocabulary has no pieces; call withPieces first");
        }
        StringBuilder sb = new StringBuilder();
        for (int id : prompt) {
            sb.append(pieces[Arrays.binarySearch(ids, id)]);
        }
        return sb.toString();
    }

    int size() {
        return ids.length;
    }
}
