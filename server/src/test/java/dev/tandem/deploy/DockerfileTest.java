package dev.tandem.deploy;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** docker/Dockerfile and .dockerignore against {@link DockerfileCheck}; then edited copies, to show each check bites. */
class DockerfileTest {
    private static final Path ROOT = DeployFiles.root();
    private static final String DOCKERFILE = DeployFiles.text(ROOT.resolve("docker/Dockerfile"));

    @Test
    void dockerfilePasses() {
        assertEquals(List.of(), DockerfileCheck.check(DOCKERFILE, ROOT));
    }

    @Test
    void continuationsAndCommentsAreJoinedIntoOneInstruction() {
        List<DockerfileCheck.Instruction> in = DockerfileCheck.parse("""
                # comment
                FROM a:25-jdk AS build
                RUN one \\
                # dropped comment
                    two
                FROM b:25-jre
                USER 1:1
                """);
        assertEquals("[line 2: FROM a:25-jdk AS build, line 3: RUN one  two, line 6: FROM b:25-jre, line 7: USER 1:1]",
                in.toString());
        assertEquals(List.of(0, 0, 1, 1), in.stream().map(DockerfileCheck.Instruction::stage).toList());
    }

    @Test
    void dockerignoreKeepsBuildOutputAndGitOutOfTheContext() {
        List<String> lines = DeployFiles.text(ROOT.resolve(".dockerignore")).lines().map(String::strip).toList();
        assertTrue(lines.contains(".git") && lines.contains("**/target/"), ".dockerignore: " + lines);
    }

    @Test
    void editedCopiesAreCaught() {
        expect("USER 10001:10001", "USER root", "must not be root");
        expect("USER 10001:10001\n", "", "sets no USER");
        expect("FROM eclipse-temurin:25-jre AS runtime", "FROM eclipse-temurin:25-jdk AS runtime", "must be a JRE 25 image");
        expect("FROM eclipse-temurin:25-jdk AS build", "FROM eclipse-temurin:21-jdk AS build", "no named build stage FROM a JDK 25 image");
        expect("\"--add-modules\", \"jdk.incubator.vector\", ", "", "needs --add-modules jdk.incubator.vector");
        expect("\"--enable-native-access=ALL-UNNAMED\", ", "", "needs --enable-native-access=ALL-UNNAMED");
        expect("\"-jar\", \"/opt/tandem/tandem.jar\"", "\"-jar\", \"/app/tandem.jar\"", "is not where COPY --from=build put the jar");
        expect("EXPOSE 8080 9090", "EXPOSE 8080", "does not EXPOSE 9090");
        expect("VOLUME [\"/models\"]", "VOLUME [\"/data\"]", "no VOLUME /models");
        expect("CMD [\"/opt/tandem/healthcheck.sh\"]", "CMD [\"/bin/true\"]", "neither requests /health");
        expect("COPY --chmod=0755 docker/healthcheck.sh", "COPY --chmod=0755 docker/health.sh", "does not exist in the build context");
        expect("CMD [\"serve\", \"--model\", \"/models/model.gguf\"", "CMD [\"serve\", \"--modell\", \"/models/model.gguf\"",
                "has no option --modell");
        expect("ENTRYPOINT [\"java\",", "ENTRYPOINT java", "use the exec form");
    }

    private static void expect(String from, String to, String fragment) {
        assertTrue(DOCKERFILE.contains(from), "docker/Dockerfile no longer contains '" + from + "': update this test");
        List<String> problems = DockerfileCheck.check(DOCKERFILE.replace(from, to), ROOT);
        assertTrue(problems.stream().anyMatch(p -> p.contains(fragment)),
                "expected a problem containing '" + fragment + "' after replacing '" + from + "' by '" + to + "'; got: " + problems);
    }
}
