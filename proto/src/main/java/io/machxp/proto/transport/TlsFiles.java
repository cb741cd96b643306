package io.machxp.proto.transport;

import io.grpc.ChannelCredentials;
import io.grpc.ServerCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * The TLS files of one process: its certificate (PEM, optionally followed by intermediates), its
 * private key (unencrypted PKCS#8 PEM, {@code -----BEGIN PRIVATE KEY-----}) and the CA
 * certificate(s) (PEM) that every peer's certificate must be signed by. {@code machxp certs DIR}
 * writes a set: {@code ca.pem}, and {@code pager.pem}/{@code pager.key}, {@code kernel.*},
 * {@code client.*} ({@link #inDirectory}).
 *
 * <p>The files are read and checked when credentials are made, that is at startup, so that a
 * mistake is one clear sentence naming the file rather than a failed handshake later: a file that
 * is missing or unreadable, a certificate or key that does not parse, a key that does not belong
 * to the certificate, a certificate that has expired or is not signed by the CA.
 *
 * @param cert this process's certificate chain
 * @param key the private key of that certificate
 * @param ca the CA certificate(s) trusted for peers
 */
public record TlsFiles(Path cert, Path key, Path ca) {
    /** Only in memory, for the key store the key manager reads from. */
    private static final char[] STORE_PASSWORD = "machxp".toCharArray();

    public TlsFiles {
        Objects.requireNonNull(cert, "cert");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(ca, "ca");
    }

    /** The files {@code machxp certs DIR} wrote for {@code role} (pager, kernel or client). */
    public static TlsFiles inDirectory(Path dir, String role) {
        return new TlsFiles(dir.resolve(role + ".pem"), dir.resolve(role + ".key"), dir.resolve("ca.pem"));
    }

    /** Mutual TLS for a server: its certificate, and a client certificate signed by the CA required. */
    public ServerCredentials serverCredentials() {
        return TlsServerCredentials.newBuilder()
                .keyManager(keyManagers())
                .trustManager(trustManagers())
                .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE)
                .build();
    }

    /** Mutual TLS for a client: its certificate, and the server's checked against the CA and the target's name. */
    public ChannelCredentials channelCredentials() {
        return TlsChannelCredentials.newBuilder()
                .keyManager(keyManagers())
                .trustManager(trustManagers())
                .build();
    }

    /** This process's certificate and key, checked against each other and the CA. */
    public KeyManager[] keyManagers() {
        List<X509Certificate> chain = certificates(cert, "certificate");
        List<X509Certificate> authorities = certificates(ca, "CA certificate");
        X509Certificate leaf = chain.get(0);
        PrivateKey privateKey = privateKey(leaf);
        checkKeyMatches(leaf, privateKey);
        checkValidity(leaf);
        checkSignedByCa(chain.get(chain.size() - 1), authorities);
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("machxp", privateKey, STORE_PASSWORD, chain.toArray(new X509Certificate[0]));
            KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            factory.init(store, STORE_PASSWORD);
            return factory.getKeyManagers();
        } catch (GeneralSecurityException | IOException e) {
            throw new TransportException("cannot use the TLS certificate " + cert + " with its key " + key + ": "
                    + e.getMessage(), e);
        }
    }

    /** The CA certificate(s): a peer is trusted when its certificate chains to one of them. */
    public TrustManager[] trustManagers() {
        List<X509Certificate> authorities = certificates(ca, "CA certificate");
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            for (int i = 0; i < authorities.size(); i++) {
                store.setCertificateEntry("ca-" + i, authorities.get(i));
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(store);
            return factory.getTrustManagers();
        } catch (GeneralSecurityException | IOException e) {
            throw new TransportException("cannot use the TLS CA certificate " + ca + ": " + e.getMessage(), e);
        }
    }

    // ---- reading and checking ---------------------------------------------------------------

    private static String read(Path file, String what) {
        try {
            return Files.readString(file, StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            throw new TransportException("the TLS " + what + " " + file
                    + " does not exist; give the right path, or make a set with machxp certs DIR", e);
        } catch (AccessDeniedException e) {
            throw new TransportException("the TLS " + what + " " + file
                    + " cannot be read by this user; check the file's owner and permissions", e);
        } catch (IOException e) {
            throw new TransportException("cannot read the TLS " + what + " " + file + " (" + e + "); check the file", e);
        }
    }

    private static List<X509Certificate> certificates(Path file, String what) {
        String pem = read(file, what);
        if (!pem.contains("-----BEGIN CERTIFICATE-----")) {
            throw new TransportException("the TLS " + what + " " + file
                    + " holds no PEM certificate (-----BEGIN CERTIFICATE-----); give a certificate file, not a key");
        }
        try {
            List<X509Certificate> list = new ArrayList<>();
            for (var c : CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
                list.add((X509Certificate) c);
            }
            if (list.isEmpty()) {
                throw new CertificateException("no certificate found");
            }
            return list;
        } catch (CertificateException e) {
            throw new TransportException("the TLS " + what + " " + file + " is not a valid PEM certificate ("
                    + e.getMessage() + "); make a new one with machxp certs DIR", e);
        }
    }

    /** The key of {@code leaf}, read with the certificate's key algorithm. */
    private PrivateKey privateKey(X509Certificate leaf) {
        String pem = read(key, "key");
        if (pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")) {
            throw new TransportException("the TLS key " + key + " is encrypted; give an unencrypted PKCS#8 key, "
                    + "protected by owner-only file permissions (openssl pkcs8 -topk8 -nocrypt converts one)");
        }
        if (pem.contains("-----BEGIN EC PRIVATE KEY-----") || pem.contains("-----BEGIN RSA PRIVATE KEY-----")) {
            throw new TransportException("the TLS key " + key + " is in the traditional OpenSSL format; convert it to "
                    + "PKCS#8 with: openssl pkcs8 -topk8 -nocrypt -in " + key + " -out KEY");
        }
        String begin = "-----BEGIN PRIVATE KEY-----";
        String end = "-----END PRIVATE KEY-----";
        int from = pem.indexOf(begin);
        int to = pem.indexOf(end);
        if (from < 0 || to < from) {
            throw new TransportException("the TLS key " + key
                    + " holds no PKCS#8 PEM key (-----BEGIN PRIVATE KEY-----); give the .key file written with the certificate");
        }
        String algorithm = leaf.getPublicKey().getAlgorithm();
        try {
            byte[] der = Base64.getMimeDecoder().decode(pem.substring(from + begin.length(), to));
            return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (IllegalArgumentException | GeneralSecurityException e) {
            throw new TransportException("the TLS key " + key + " is not a valid " + algorithm + " key for the certificate "
                    + cert + "; give the key written with that certificate", e);
        }
    }

    /** Signs a random challenge with the key and verifies it with the certificate's public key. */
    private void checkKeyMatches(X509Certificate leaf, PrivateKey privateKey) {
        String algorithm = switch (leaf.getPublicKey().getAlgorithm()) {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            case "Ed448" -> "Ed448";
            default -> throw new TransportException("the TLS certificate " + cert + " has a "
                    + leaf.getPublicKey().getAlgorithm() + " key, which machxp does not use; give an EC or RSA certificate");
        };
        boolean matches;
        try {
            byte[] challenge = new byte[32];
            new SecureRandom().nextBytes(challenge);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(privateKey);
            signer.update(challenge);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(leaf.getPublicKey());
            verifier.update(challenge);
            matches = verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            matches = false;
        }
        if (!matches) {
            throw new TransportException("the TLS key " + key + " does not belong to the certificate " + cert
                    + "; give the key that was written with that certificate");
        }
    }

    private void checkValidity(X509Certificate leaf) {
        try {
            leaf.checkValidity();
        } catch (CertificateExpiredException e) {
            throw new TransportException("the TLS certificate " + cert + " expired on " + leaf.getNotAfter().toInstant()
                    + "; make new ones with machxp certs DIR --force", e);
        } catch (CertificateNotYetValidException e) {
            throw new TransportException("the TLS certificate " + cert + " is not valid before "
                    + leaf.getNotBefore().toInstant() + "; check this machine's clock", e);
        }
    }

    /** The top of the chain must be one of the CAs or be signed by one. */
    private void checkSignedByCa(X509Certificate top, List<X509Certificate> authorities) {
        for (X509Certificate authority : authorities) {
            if (top.equals(authority)) {
                return;
            }
            if (top.getIssuerX500Principal().equals(authority.getSubjectX500Principal())) {
                try {
                    top.verify(authority.getPublicKey());
                    return;
                } catch (GeneralSecurityException e) {
                    // signed by another key with the same name: try the next
                }
            }
        }
        throw new TransportException("the TLS certificate " + cert + " is not signed by the CA in " + ca
                + "; give the CA certificate that signed it (machxp certs writes both into one directory)");
    }
}
