package dev.tandem.gguf;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** GGUF v2 has v3's layout (64-bit counts, little-endian); a v2 file reads exactly like its v3 twin. */
class GgufVersionTest {

    @Test
    void version2ReadsLikeVersion3(@TempDir Path dir) throws Exception {
        Path v3 = dir.resolve("v3.gguf");
        Map<String, byte[]> tensors = GgufSamples.writeSample(v3);
        byte[] bytes = Files.readAllBytes(v3);
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(4, 2);
        Path v2 = dir.resolve("v2.gguf");
        Files.write(v2, bytes);
        try (GgufFile a = GgufFile.open(v3); GgufFile b = GgufFile.open(v2)) {
            assertEquals(3, a.version());
            assertEquals(2, b.version());
            assertEquals(a.metadata(), b.metadata());
            assertEquals(a.tensors().keySet(), b.tensors().keySet());
            for (var e : tensors.entrySet()) {
                assertArrayEquals(e.getValue(), b.tensor(e.getKey()).data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), e.getKey());
            }
        }
    }
}
