package org.mosaic.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every file of an IDL corpus nobody here wrote (Apache Thrift 0.17.0's test/ IDL and
 * parquet.thrift, fetched into .cache/ by scripts/setup; MOSAIC_IDL_CORPUS lists the
 * directories, `:`-separated) generates Java that javac compiles with -Xlint:all -Werror.
 * Files the front end rejects (BrokenConstants.thrift) are left out. Skipped when no corpus is
 * there.
 */
class IdlCorpusCompileTest {
    static Stream<Path> corpus() throws IOException {
        String dirs = System.getenv("MOSAIC_IDL_CORPUS");
        Path root = ThriftTestServer.repoRoot();
        List<Path> roots = new ArrayList<>();
        if (dirs != null && !dirs.isEmpty()) {
            for (String d : dirs.split(":")) {
                roots.add(Path.of(d));
            }
        } else {
            roots.add(root.resolve(".cache/apache-thrift-0.17/test"));
            roots.add(root.resolve(".cache/idl-corpus-extra"));
        }
        List<Path> files = new ArrayList<>();
        for (Path dir : roots) {
            if (Files.isDirectory(dir)) {
                try (Stream<Path> list = Files.list(dir)) {
                    list.filter(p -> p.toString().endsWith(".thrift"))
                        .filter(p -> !p.getFileName().toString().equals("BrokenConstants.thrift"))
                        .sorted()
                        .forEach(files::add);
                }
            }
        }
        if (files.isEmpty()) {
            // One placeholder argument, so that the test reports itself as skipped.
            files.add(Path.of("no-corpus"));
        }
        return files.stream();
    }

    static String location(Class<?> type) throws Exception {
        return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void generatedJavaCompilesWithoutWarnings(Path idl) throws Exception {
        assumeTrue(Files.isRegularFile(idl), "no IDL corpus (run scripts/setup)");
        String generator = System.getenv("MOSAIC_JAVA_GENERATOR");
        assertNotNull(generator, "MOSAIC_JAVA_GENERATOR names the generator (set by the pom)");
        String name = idl.getFileName().toString().replace(".thrift", "");
        Path out = Path.of("target", "idl-corpus", name).toAbsolutePath();
        Path src = out.resolve("src");
        Path classes = out.resolve("classes");
        Files.createDirectories(classes);
        Process gen = new ProcessBuilder(generator, "gen", "--lang", "java", "-o", src.toString(), idl.toString())
            .redirectErrorStream(true)
            .start();
        String genOutput = new String(gen.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, gen.waitFor(), idl + ": the generator succeeds:\n" + genOutput);

        List<String> args = new ArrayList<>(List.of("-Xlint:all", "-Werror", "-proc:none", "-d", classes.toString(),
            "-cp", location(org.apache.thrift.TBase.class) + File.pathSeparator + location(org.slf4j.Logger.class)));
        try (Stream<Path> walk = Files.walk(src)) {
            walk.filter(p -> p.toString().endsWith(".java")).map(Path::toString).sorted().forEach(args::add);
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        java.io.ByteArrayOutputStream diagnostics = new java.io.ByteArrayOutputStream();
        int code = javac.run(null, diagnostics, diagnostics, args.toArray(new String[0]));
        assertEquals(0, code, idl + ": javac -Xlint:all -Werror accepts the generated Java:\n"
            + diagnostics.toString(java.nio.charset.StandardCharsets.UTF_8));
    }
}
