package dev.tandem.tokenizer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Writes a tensor-less GGUF v3 file holding only metadata, for tokenizer tests that need no shared files.
 * Values: String, Boolean, Integer (written as UINT32), String[], float[], int[] (INT32).
 */
final class MiniGguf {
    private MiniGguf() {}

    static Path write(Path file, Map<String, Object> meta) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes("GGUF".getBytes(StandardCharsets.US_ASCII));
        u32(out, 3);
        u64(out, 0);
        u64(out, meta.size());
        for (var e : meta.entrySet()) {
            str(out, e.getKey());
            switch (e.getValue()) {
                case String s -> { u32(out, 8); str(out, s); }
                case Boolean b -> { u32(out, 7); out.write(b ? 1 : 0); }
                case Integer i -> { u32(out, 4); u32(out, i); }
                case String[] a -> { u32(out, 9); u32(out, 8); u64(out, a.length); for (String s : a) { str(out, s); } }
                case float[] a -> { u32(out, 9); u32(out, 6); u64(out, a.length); for (float f : a) { u32(out, Float.floatToIntBits(f)); } }
                case int[] a -> { u32(out, 9); u32(out, 5); u64(out, a.length); for (int i : a) { u32(out, i); } }
                default -> throw new IllegalArgumentException("unsupported value " + e.getValue());
            }
        }
        return Files.write(file, out.toByteArray());
    }

    private static void u32(ByteArrayOutputStream out, int v) {
        out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array());
    }

    private static void u64(ByteArrayOutputStream out, long v) {
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
    }

    private static void str(ByteArrayOutputStream out, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        u64(out, b.length);
        out.writeBytes(b);
    }
}
