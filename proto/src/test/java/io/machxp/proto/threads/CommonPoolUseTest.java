package io.machxp.proto.threads;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Guards against new work on the common fork-join pool in main code: every module's
 * {@code src/main/java} is scanned ({@link CommonPoolCalls}) for a CompletableFuture step without
 * an executor, {@code ForkJoinPool.commonPool()}, {@code parallelStream()} and {@code parallel()} (and
 * {@code delayedExecutor(d, unit)}, whose tasks run there too).
 * Since JDK 25 that pool is CompletableFuture's default executor everywhere, with one worker on 2
 * CPUs, so one blocking call there stops every later task (a j25 review found tests that hung so;
 * blocking calls moved to {@link OwnThreads}). A use that cannot block, or must be on that pool,
 * goes into {@link #ALLOWED} with its reason; an entry that no longer matches a call fails too, so
 * the list stays what the code is.
 */
class CommonPoolUseTest {
    /**
     * Justified uses: "path of the file from the checkout's root:call name" (as reported below) and why it
     * may run on the common pool. None today: every main use passes an executor.
     */
    static final Map<String, String> ALLOWED = Map.of();

    @Test
    void mainCodeRunsNothingOnTheCommonPool() throws IOException {
        Path root = repositoryRoot();
        List<String> found = new ArrayList<>();
        Set<String> allowedSeen = new HashSet<>();
        List<Path> files = mainSources(root);
        for (Path file : files) {
            String rel = root.relativize(file).toString().replace('\\', '/');
            for (CommonPoolCalls.Found f : CommonPoolCalls.in(Files.readString(file))) {
                String key = rel + ":" + f.call();
                if (ALLOWED.containsKey(key)) {
                    allowedSeen.add(key);
                } else {
                    found.add(key + " (line " + f.line() + ")");
                }
            }
        }
        assertThat(files).as("main sources under %s", root).hasSizeGreaterThan(100);
        assertThat(found).as("calls that run work on the common fork-join pool: pass an executor "
                + "(OwnThreads.named for one that may block) or add the file:call to ALLOWED with the reason")
                .isEmpty();
        assertThat(ALLOWED.keySet()).as("ALLOWED entries that match no call any more").isSubsetOf(allowedSeen);
    }

    @Test
    void theScanFindsTheFormsWithoutAnExecutorOnly() {
        String source = String.join("\n",
                "class A {",
                "  // CompletableFuture.runAsync(r) in a comment, and \"supplyAsync(s)\" in a string",
                "  void a() {",
                "    CompletableFuture.runAsync(() -> block());",
                "    CompletableFuture.runAsync(() -> block(), exec);",
                "    CompletableFuture.supplyAsync(() -> {",
                "        int x = f(1, 2);",
                "        return x;",
                "    });",
                "    CompletableFuture.supplyAsync(() -> {",
                "        return g(1, 2);",
                "    }, OwnThreads.named(\"t\"));",
                "    f.thenApplyAsync(v -> v + 1).thenCombineAsync(other, (a, b) -> a + b);",
                "    f.thenCombineAsync(other, (a, b) -> a + b, exec).whenCompleteAsync((v, e) -> { }, exec);",
                "    ForkJoinPool.commonPool().execute(r);",
                "    list.parallelStream().forEach(x -> { });",
                "    list.stream().parallel().map(x -> x);",
                "    OwnThreads.run(\"r\", () -> block());",
                "    Executor later = CompletableFuture.delayedExecutor(5, TimeUnit.SECONDS);",
                "    Executor own = CompletableFuture.delayedExecutor(5, TimeUnit.SECONDS, exec);",
                "  }",
                "}");
        assertThat(CommonPoolCalls.in(source)).containsExactly(
                new CommonPoolCalls.Found(4, "runAsync"),
                new CommonPoolCalls.Found(6, "supplyAsync"),
                new CommonPoolCalls.Found(13, "thenApplyAsync"),
                new CommonPoolCalls.Found(13, "thenCombineAsync"),
                new CommonPoolCalls.Found(15, "commonPool"),
                new CommonPoolCalls.Found(16, "parallelStream"),
                new CommonPoolCalls.Found(17, "parallel"),
                new CommonPoolCalls.Found(19, "delayedExecutor"));
    }

    /** The checkout's root: the nearest directory up from here with proto/ beside a pom.xml. */
    private static Path repositoryRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("pom.xml")) && Files.isDirectory(p.resolve("proto/src/main/java"))) {
                return p;
            }
        }
        throw new IllegalStateException("no machxp checkout above " + Path.of("").toAbsolutePath());
    }

    /** Every .java file under a src/main/java of any module (examples too), build output left out. */
    private static List<Path> mainSources(Path root) throws IOException {
        List<Path> files = new ArrayList<>();
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                String name = dir.getFileName() == null ? "" : dir.getFileName().toString();
                boolean skip = !dir.equals(root) && (name.equals("target") || name.startsWith(".")
                        || name.equals("node_modules"));
                return skip ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                String rel = root.relativize(file).toString().replace('\\', '/');
                if (rel.endsWith(".java") && rel.contains("src/main/java/")) {
                    files.add(file);
                }
                return FileVisitResult.CONTINUE;
            }
        });
        files.sort(null);
        return files;
    }
}
