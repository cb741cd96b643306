package io.machxp.cli;

import io.machxp.proto.transport.TlsFiles;
import io.machxp.proto.transport.Transport;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The TLS options of every command that opens connections (a picocli mixin): the three files for
 * mutual TLS, or {@code --plaintext} to allow plaintext off loopback. With none, plaintext on
 * loopback only. See {@link Transport} for the policy.
 */
final class TlsOptions {
    @Option(names = "--tls-cert", paramLabel = "FILE",
            description = "this process's certificate (PEM), signed by --tls-ca; with --tls-key and --tls-ca: mutual TLS")
    Path cert;

    @Option(names = "--tls-key", paramLabel = "FILE", description = "the certificate's private key (PKCS#8 PEM)")
    Path key;

    @Option(names = "--tls-ca", paramLabel = "FILE",
            description = "the CA certificate (PEM) that every peer's certificate must be signed by")
    Path ca;

    @Option(names = "--plaintext",
            description = "allow connections without TLS to and from other hosts (default: plaintext on loopback only)")
    boolean plaintext;

    /** The transport these options ask for; all three files or none. */
    Transport transport() {
        List<String> missing = new ArrayList<>();
        if (cert == null) {
            missing.add("--tls-cert");
        }
        if (key == null) {
            missing.add("--tls-key");
        }
        if (ca == null) {
            missing.add("--tls-ca");
        }
        if (missing.size() == 3) {
            return plaintext ? Transport.PLAINTEXT : Transport.LOOPBACK_PLAINTEXT;
        }
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("mutual TLS needs all of --tls-cert, --tls-key and --tls-ca; add "
                    + String.join(" and ", missing));
        }
        return new Transport(new TlsFiles(cert, key, ca), plaintext);
    }
}
