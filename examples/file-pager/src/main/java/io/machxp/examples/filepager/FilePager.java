package io.machxp.examples.filepager;

import io.machxp.pager.Pager;
import io.machxp.pager.lib.XpPager;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * An XP pager written only with machxp's pager library: it serves one memory object whose pages
 * are a file's bytes ({@link FileBackend}), and logs every access. Everything else (sessions,
 * leases, page coherence across kernels, futexes, restart and reclaim) is the library's; the
 * library keeps the page versions, futex holders, epoch and lease in a state directory beside the
 * file, so that the pager started again after a crash or a stop takes its kernels' reclaims.
 *
 * <pre>
 *  java -jar examples/file-pager/target/file-pager.jar --file data.bin --port 7079
 *  ./machxp kernel --name A --pager 127.0.0.1:7079 ...         (kernels map the object "shared")
 *  ./machxp conform pager --target 127.0.0.1:7079              (checks it against docs/xp-spec.md)
 * </pre>
 */
@Command(name = "file-pager", mixinStandardHelpOptions = true,
        description = "An XP pager whose memory object is a file, built on machxp's pager library.")
public final class FilePager implements Callable<Integer> {
    @Option(names = "--file", required = true, description = "the file whose bytes are the object's pages")
    Path file;

    @Option(names = "--object", defaultValue = "shared", description = "the object's name (default ${DEFAULT-VALUE})")
    String object;

    @Option(names = "--size", description = "the object's size in bytes, whole pages (default: the file's length "
            + "rounded up to a page, at least 1 MiB)")
    Long size;

    @Option(names = "--port", defaultValue = "7079", description = "XP port on loopback (default ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--page-size", defaultValue = "4096", description = "bytes (default ${DEFAULT-VALUE})")
    int pageSize;

    @Option(names = "--lease-ms", defaultValue = "5000",
            description = "a kernel's session lease; 0 = none (default ${DEFAULT-VALUE})")
    long leaseMillis;

    @Option(names = "--read-only", description = "refuse write access to every page")
    boolean readOnly;

    @Option(names = "--fresh", description = "no earlier pager on this port left kernels behind: a first start "
            + "(on an empty state directory, or with --state none) grants at once (else it waits a lease first, "
            + "spec 9.2); a start on a state directory an earlier start left is a restart all the same")
    boolean fresh;

    @Option(names = "--state", description = "the directory of the pager's state (page versions, futex holders, "
            + "epoch, lease), so that a restarted pager takes its kernels' reclaims (spec 9.4); 'none' keeps it in "
            + "memory (default: the file's path with .xp-state added)")
    String state;

    /** Starts the pager this command line describes; listening when this returns. */
    public Pager start() throws IOException {
        FileBackend backend = new FileBackend(object, file, pageSize, readOnly);
        long pages = Math.max(1, (backend.length() + pageSize - 1) / pageSize);
        long bytes = size != null ? size : Math.max(pages * pageSize, 1 << 20);
        try {
            XpPager xp = XpPager.serve(backend);
            if (!"none".equals(state)) {
                xp.stateDir(state != null ? Path.of(state) : file.resolveSibling(file.getFileName() + ".xp-state"));
            }
            return xp
                    .name("file-pager")
                    .pageSize(pageSize)
                    .object(object, bytes)
                    .port(port)
                    .lease(Duration.ofMillis(leaseMillis))
                    .freshStart(fresh)
                    .precious(true) // Mach's precious pages (spec 6.10): kernels that know them give them back
                    .start();
        } catch (IOException | RuntimeException e) {
            backend.close();
            throw e;
        }
    }

    @Override
    public Integer call() throws Exception {
        Pager pager = start();
        System.err.printf("file-pager serving %s (%s%s) on %s%n", object, file, readOnly ? ", read-only" : "",
                pager.target());
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            pager.close();
            stopped.countDown();
        }, "file-pager-stop"));
        stopped.await();
        return 0;
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new FilePager()).execute(args));
    }
}
