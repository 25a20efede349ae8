package dev.tandem.cluster;

import dev.tandem.gguf.GgufFile;
import dev.tandem.gguf.TensorInfo;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Map;
import java.util.TreeMap;

/**
 * A model's identity for the cluster handshake: SHA-256 over the GGUF file's metadata (every key
 * and value, keys in sorted order) and tensor table (name, type, shape, offset, size of each,
 * sorted by name), as 16 hex digits. Two files agree when they hold the same model in the same
 * layout; the weights' bytes are not read (hashing gigabytes would slow every start), so two
 * files differing only in weight values at identical offsets are not told apart.
 */
final class ModelIdentity {
    private ModelIdentity() {}

    static String of(GgufFile file) {
        MessageDigest d;
        try {
            d = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
        for (Map.Entry<String, Object> e : new TreeMap<>(file.metadata()).entrySet()) {
            update(d, "k:" + e.getKey());
            update(d, "v:" + render(e.getValue()));
        }
        for (TensorInfo t : new TreeMap<>(file.tensors()).values()) {
            update(d, "t:" + t.name() + ":" + t.type() + ":" + java.util.Arrays.toString(t.dims()) + ":" + t.offset() + ":" + t.bytes());
        }
        byte[] h = d.digest();
        StringBuilder s = new StringBuilder(16);
        for (int i = 0; i < 8; i++) {
            s.append(String.format("%02x", h[i]));
        }
        return s.toString();
    }

    private static void update(MessageDigest d, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        d.update(new byte[] {(byte) (b.length >>> 24), (byte) (b.length >>> 16), (byte) (b.length >>> 8), (byte) b.length});
        d.update(b);
    }

    /** A metadata value as text: arrays element by element (their toString is not their content). */
    private static String render(Object v) {
        if (v == null) {
            return "null";
        }
        if (v instanceof dev.tandem.gguf.GgufArray a) {
            return a.elementType() + render(a.values());
        }
        if (v.getClass().isArray()) {
            int n = java.lang.reflect.Array.getLength(v);
            StringBuilder s = new StringBuilder("[");
            for (int i = 0; i < n; i++) {
                s.append(render(java.lang.reflect.Array.get(v, i))).append(',');
            }
            return s.append(']').toString();
        }
        return v.getClass().getSimpleName() + "=" + v;
    }
}
