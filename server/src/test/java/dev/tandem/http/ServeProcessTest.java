package dev.tandem.http;

import dev.tandem.testing.Shared;
import org.junit.jupiter.api.Test;

import java.net.ConnectException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.io.InputStream;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code tandem serve} as a process: /health goes 200 once loaded, a request log line per request, and SIGTERM
 * lets the running stream finish, stops accepting, and exits 0.
 */
class ServeProcessTest {
    @Test
    void sigtermFinishesRunningStreamsAndExitsZero() throws Exception {
        Path model = Shared.model("ref/llama-spm-q8_0.gguf");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx512m",
                "-cp", System.getProperty("java.class.path"), "dev.tandem.cli.Main",
                "serve", "--model", model.toString(), "--port", "0", "--threads", "1", "--ctx", "256", "--shutdown-grace", "20"));
        Path out = Files.createTempFile("tandem-serve", ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
        Process p = pb.start();
        Pattern listening = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)");
        try {
            int portNo = -1;
            for (long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30); portNo < 0; Thread.sleep(20)) {
                Matcher m = listening.matcher(Files.readString(out));
                if (m.find()) {
                    portNo = Integer.parseInt(m.group(1));
                }
                assertTrue(System.nanoTime() < end && p.isAlive(), "serve did not start: " + Files.readString(out));
            }
            TestServer client = new TestServer.Client(portNo).asServer();
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (client.request("GET", "/health").status() != 200) {
                assertTrue(System.nanoTime() < end, "not ready in 30 s: " + Files.readString(out));
                Thread.sleep(50);
            }
            TestServer.Raw r;
            try (Socket sock = new Socket("127.0.0.1", portNo)) {
                sock.setSoTimeout(30_000);
                byte[] body = ("{\"model\":\"llama-spm-q8_0\",\"prompt\":\"Once upon a time\",\"stream\":true,"
                        + "\"max_tokens\":60,\"ignore_eos\":true,\"temperature\":0}").getBytes(StandardCharsets.UTF_8);
                sock.getOutputStream().write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                        + "Content-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                sock.getOutputStream().write(body);
                java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
                InputStream in = sock.getInputStream();
                while (!got.toString(StandardCharsets.UTF_8).contains("data: {")) { // the stream is running
                    int b = in.read();
                    assertTrue(b >= 0, "closed before the first event: " + got);
                    got.write(b);
                }
                p.destroy(); // SIGTERM while the request runs
                got.write(in.readAllBytes());
                r = TestServer.read(new java.io.ByteArrayInputStream(got.toByteArray()));
            }
            assertTrue(p.waitFor(40, TimeUnit.SECONDS), "serve did not exit after SIGTERM: " + Files.readString(out));
            List<String> lines = Files.readAllLines(out);
            assertEquals(0, p.exitValue(), "exit status after SIGTERM: " + lines);
            assertEquals(200, r.status(), r.text());
            List<String> events = SseTest.events(r.text());
            assertEquals("data: [DONE]", events.getLast(), r.text());
            assertTrue(events.get(events.size() - 2).contains("\"finish_reason\":\"length\""), "the stream ran to max_tokens: " + r.text());
            int closedPort = portNo;
            assertThrows(ConnectException.class, () -> new Socket("127.0.0.1", closedPort).close(), "still accepting after exit");
            assertTrue(lines.stream().anyMatch(l -> l.matches("GET /health 200 prompt=0 completion=0 \\d+\\.\\d{3}s")), lines.toString());
            assertTrue(lines.stream().anyMatch(l -> l.matches("POST /v1/completions 200 prompt=5 completion=60 \\d+\\.\\d{3}s")), lines.toString());
            assertTrue(lines.contains("tandem: stopped"), lines.toString());
        } finally {
            p.destroyForcibly();
            Files.deleteIfExists(out);
        }
    }
}
