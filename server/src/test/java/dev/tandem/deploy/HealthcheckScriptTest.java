package dev.tandem.deploy;

import dev.tandem.engine.Engine;
import dev.tandem.engine.GenerationRequest;
import dev.tandem.engine.ModelInfo;
import dev.tandem.engine.RequestHandle;
import dev.tandem.engine.TokenSink;
import dev.tandem.http.HttpServer;
import dev.tandem.http.ServerConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * docker/healthcheck.sh (the image's HEALTHCHECK: bash over /dev/tcp, as the JRE image has no curl) against
 * tandem's real HTTP server: 1 while /health answers 503 (loading), 0 once it answers 200, 1 when nothing listens.
 */
class HealthcheckScriptTest {
    private static final Path SCRIPT = DeployFiles.docker().resolve("healthcheck.sh");

    /** An engine that only has to exist: /health asks whether one is there, nothing more. */
    private static final class NoEngine implements Engine {
        @Override
        public RequestHandle submit(GenerationRequest request, TokenSink sink) {
            throw new UnsupportedOperationException("the health check test submits nothing");
        }

        @Override
        public ModelInfo model() {
            throw new UnsupportedOperationException("the health check test asks for no model");
        }

        @Override
        public void shutdown(long graceMillis) {}

        @Override
        public void close() {}
    }

    @Test
    void scriptFollowsTheServersHealth() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/bin/bash")), "skipped: no /bin/bash here to run docker/healthcheck.sh");
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        HttpServer server = HttpServer.start(ServerConfig.loopback(0), registry, line -> { });
        int port = server.port();
        try {
            assertEquals(1, run(port), "exit code while /health answers 503 (no engine yet), port " + port);
            server.ready(new NoEngine());
            assertEquals(0, run(port), "exit code once /health answers 200, port " + port);
        } finally {
            server.close();
        }
        assertEquals(1, run(port), "exit code with nothing listening on port " + port);
    }

    @Test
    void scriptGivesUpOnAServerThatNeverAnswers() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/bin/bash")), "skipped: no /bin/bash here to run docker/healthcheck.sh");
        try (ServerSocket silent = new ServerSocket(0)) { // accepts (the kernel's backlog) but never writes
            long start = System.nanoTime();
            assertEquals(1, run(silent.getLocalPort()), "exit code against a silent server");
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(ms >= 900 && ms < 5_000, "TANDEM_HEALTH_TIMEOUT=1 bounds the wait to about 1 s; took " + ms + " ms");
        }
    }

    private static int run(int port) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder("/bin/bash", SCRIPT.toString(), Integer.toString(port)).redirectErrorStream(true);
        pb.environment().put("TANDEM_HEALTH_TIMEOUT", "1");
        Process p = pb.start();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("docker/healthcheck.sh did not end within 10 s on port " + port);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals("", out, "the script prints nothing (Docker keeps the output of health checks)");
        return p.exitValue();
    }
}
