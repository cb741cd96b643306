package io.machxp.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code machxp certs DIR}: a development CA and a certificate for each kind of process, for
 * mutual TLS between them. Not a PKI: one CA key on disk signs everything, and any certificate it
 * signed is accepted by every machxp server that trusts it.
 */
@Command(name = "certs", mixinStandardHelpOptions = true,
        header = "Make a development CA and certificates for mutual TLS.",
        description = {"Make a development CA and certificates for mutual TLS: DIR/ca.pem and ca.key, and a",
            "certificate and PKCS#8 key for each of pager, kernel and client (pager.pem, pager.key, ...),",
            "EC P-256, valid for localhost, 127.0.0.1, ::1 and every --host."})
final class CertsCommand implements Callable<Integer> {

    /** --verbose: the stack trace of an error. */
    @picocli.CommandLine.Mixin
    VerboseOption verboseOption;
    /** The processes that get a certificate, each with its own key. */
    static final List<String> ROLES = List.of("pager", "kernel", "client");

    @Parameters(index = "0", paramLabel = "DIR", description = "where to write the files (created if missing)")
    Path dir;

    @Option(names = "--host", paramLabel = "NAME",
            description = "another name or IP address peers connect by (repeatable), e.g. --host node1.example --host 10.0.0.5")
    List<String> hosts = new ArrayList<>();

    @Option(names = "--days", defaultValue = "365", description = "validity in days (default ${DEFAULT-VALUE})")
    int days;

    @Option(names = "--force", description = "replace files that are already there")
    boolean force;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if (days < 1 || days > 36_500) {
            throw new IllegalArgumentException("--days must be 1 to 36500");
        }
        hosts.forEach(DevCertificates::generalName); // a bad --host fails before anything is written
        Map<Path, String> files = new LinkedHashMap<>();
        files.put(dir.resolve("ca.pem"), "the CA certificate: every process trusts it (--tls-ca)");
        files.put(dir.resolve("ca.key"), "the CA's key: signs certificates; keep it off the other machines");
        for (String role : ROLES) {
            files.put(dir.resolve(role + ".pem"), "the " + role + "'s certificate");
            files.put(dir.resolve(role + ".key"), "its key (PKCS#8)");
        }
        List<String> present = files.keySet().stream().filter(Files::exists).map(p -> p.getFileName().toString()).toList();
        if (!present.isEmpty() && !force) {
            throw new IllegalArgumentException(dir + " already holds " + String.join(", ", present)
                    + "; pass --force to replace them, or choose another directory");
        }

        Duration validity = Duration.ofDays(days);
        DevCertificates maker = new DevCertificates();
        DevCertificates.Issued ca = maker.ca("machxp development CA", validity);
        Files.createDirectories(dir);
        write(dir.resolve("ca.pem"), ca.certificatePem(), false);
        write(dir.resolve("ca.key"), ca.keyPem(), true);
        for (String role : ROLES) {
            DevCertificates.Issued issued = maker.issue(ca, "machxp " + role, hosts, validity);
            write(dir.resolve(role + ".pem"), issued.certificatePem(), false);
            write(dir.resolve(role + ".key"), issued.keyPem(), true);
        }
        report(files);
        return ExitCodes.OK;
    }

    /**
     * Writes a file; a key is created with owner-only permissions (rw-------) where the file system
     * has POSIX permissions, so that it is never readable by others, not even for a moment.
     */
    private void write(Path file, String content, boolean secret) throws IOException {
        if (force) {
            Files.deleteIfExists(file);
        }
        try {
            if (secret && file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            } else {
                Files.createFile(file);
            }
        } catch (FileAlreadyExistsException e) {
            throw new IllegalArgumentException(file + " appeared while writing; pass --force to replace it");
        }
        Files.writeString(file, content);
    }

    private void report(Map<Path, String> files) {
        PrintWriter out = spec.commandLine().getOut();
        List<String> names = new ArrayList<>(DevCertificates.LOOPBACK_NAMES);
        hosts.stream().filter(h -> !names.contains(h)).forEach(names::add);
        out.printf(Locale.ROOT, "Wrote a development CA and certificates (EC P-256, valid %d days, for %s):%n", days,
                String.join(", ", names));
        files.forEach((file, what) -> out.printf(Locale.ROOT, "  %-40s %s%n", file, what));
        String host = hosts.isEmpty() ? "127.0.0.1" : hosts.get(0).contains(":") ? "[" + hosts.get(0) + "]" : hosts.get(0);
        String bind = hosts.isEmpty() ? "127.0.0.1" : "0.0.0.0";
        out.println();
        out.println("Run each process with its own files (mutual TLS: every peer needs a certificate signed by this CA):");
        out.printf(Locale.ROOT, "  ./machxp pager --bind %s --port 7070 %s%n", bind, flags("pager"));
        out.printf(Locale.ROOT, "  ./machxp kernel --name A --pager %s:7070 --bind %s --port 7071 %s%n", host, bind, flags("kernel"));
        out.printf(Locale.ROOT, "  ./machxp demo --connect %s:7071 --pager %s:7070 %s%n", host, host, flags("client"));
        out.printf(Locale.ROOT, "In Java: KernelClient.connect(\"%s:7071\", TlsFiles.inDirectory(Path.of(\"%s\"), \"client\"))%n", host,
                dir);
        out.println("Connect by one of the names above; with other names, run again with --host NAME --force.");
        out.flush();
    }

    private String flags(String role) {
        return "--tls-cert " + dir.resolve(role + ".pem") + " --tls-key " + dir.resolve(role + ".key") + " --tls-ca "
                + dir.resolve("ca.pem");
    }
}
