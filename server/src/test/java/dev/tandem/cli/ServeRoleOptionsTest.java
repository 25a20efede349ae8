package dev.tandem.cli;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code tandem serve --role …}: bad cluster options are one-line usage errors before anything starts. */
class ServeRoleOptionsTest {
    private static String fails(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        assertEquals(2, code, "exit code of " + String.join(" ", args) + "; stderr: " + err);
        return err.toString();
    }

    @Test
    void anUnknownRoleIsNamed() {
        String err = fails("serve", "-m", "demo", "--role", "worker");
        assertTrue(err.contains("--role must be all, prefill, decode or router, not worker"), err);
    }

    @Test
    void aClusterRoleNeedsATokenOrTheExplicitOptOut() {
        if (System.getenv("TANDEM_CLUSTER_TOKEN") != null) {
            return; // the environment supplies the token: nothing to refuse
        }
        String err = fails("serve", "-m", "demo", "--role", "decode");
        assertTrue(err.contains("--role decode needs --cluster-token (or env TANDEM_CLUSTER_TOKEN), or --insecure-no-token"), err);
    }

    @Test
    void aRouterNeedsNodesGivenAsHostAndPort() {
        String err = fails("serve", "-m", "demo", "--role", "router", "--cluster-token", "t", "--decode", "127.0.0.1:9000");
        assertTrue(err.contains("--role router needs --prefill HOST:PORT or --prefill-dns NAME:PORT"), err);
        err = fails("serve", "-m", "demo", "--role", "router", "--cluster-token", "t", "--prefill", "nodeA", "--decode", "b:1");
        assertTrue(err.contains("'nodeA' is not HOST:PORT"), err);
    }

    @Test
    void prefillAndDecodeNodesNeedTheSplitEngine() {
        String err = fails("serve", "-m", "demo", "--role", "prefill", "--cluster-token", "t", "--mode", "colocated");
        assertTrue(err.contains("--role prefill needs --mode split"), err);
    }
}
