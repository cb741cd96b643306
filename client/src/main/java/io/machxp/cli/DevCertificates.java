package io.machxp.cli;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A development CA and the certificates it signs, built with Bouncy Castle's X.509 builders and
 * the JDK's own crypto provider (Bouncy Castle is not registered as a provider). Keys are EC P-256,
 * signatures ECDSA with SHA-256.
 *
 * <ul>
 *   <li>The CA: basic constraints CA (path length 0), key usage keyCertSign and cRLSign.
 *   <li>A process's certificate: not a CA, key usage digitalSignature, extended key usage serverAuth
 *       and clientAuth (a kernel is a server for clients and a client of its pager), and the names a
 *       peer may connect by as subject alternative names (DNS names and IP addresses).
 * </ul>
 *
 * Certificates start one hour in the past, so that a clock a little behind accepts them.
 */
final class DevCertificates {
    /** The names every certificate carries, for connections on this machine. */
    static final List<String> LOOPBACK_NAMES = List.of("localhost", "127.0.0.1", "::1");
    private static final Duration CLOCK_SKEW = Duration.ofHours(1);
    private static final String SIGNATURE = "SHA256withECDSA";
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final Pattern DNS_NAME = Pattern.compile("(\\*\\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
            + "(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\\.?");

    private final SecureRandom random = new SecureRandom();

    /** A certificate and its private key. */
    record Issued(X509Certificate certificate, PrivateKey key) {
        String certificatePem() {
            return pem(certificate);
        }

        /** The key as unencrypted PKCS#8 ({@code -----BEGIN PRIVATE KEY-----}). */
        String keyPem() {
            try {
                return pem(new JcaPKCS8Generator(key, null));
            } catch (IOException e) {
                throw new IllegalStateException("cannot encode the key as PKCS#8: " + e.getMessage(), e);
            }
        }
    }

    /** A self-signed CA named {@code commonName}, valid for {@code validity} from now. */
    Issued ca(String commonName, Duration validity) {
        KeyPair pair = ecKeyPair();
        X500Name name = name(commonName);
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = builder(name, name, pair, validity)
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(pair.getPublic()));
            return new Issued(sign(builder, pair.getPrivate()), pair.getPrivate());
        } catch (GeneralSecurityException | CertIOException e) {
            throw new IllegalStateException("cannot build the CA certificate: " + e.getMessage(), e);
        }
    }

    /**
     * A certificate for a process, signed by {@code ca}, for the names in {@code hosts} (DNS names
     * or IP addresses) besides {@link #LOOPBACK_NAMES}.
     *
     * @throws IllegalArgumentException if a host is neither a DNS name nor an IP address
     */
    Issued issue(Issued ca, String commonName, List<String> hosts, Duration validity) {
        List<GeneralName> names = new ArrayList<>();
        List<String> all = new ArrayList<>(LOOPBACK_NAMES);
        hosts.stream().filter(h -> !all.contains(h)).forEach(all::add);
        for (String host : all) {
            names.add(generalName(host));
        }
        KeyPair pair = ecKeyPair();
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = builder(
                    X500Name.getInstance(ca.certificate().getSubjectX500Principal().getEncoded()), name(commonName), pair,
                    validity)
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
                            new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
                    .addExtension(Extension.subjectAlternativeName, false,
                            new GeneralNames(names.toArray(new GeneralName[0])))
                    .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(pair.getPublic()))
                    .addExtension(Extension.authorityKeyIdentifier, false,
                            ext.createAuthorityKeyIdentifier(ca.certificate().getPublicKey()));
            return new Issued(sign(builder, ca.key()), pair.getPrivate());
        } catch (GeneralSecurityException | CertIOException e) {
            throw new IllegalStateException("cannot build the certificate for " + commonName + ": " + e.getMessage(), e);
        }
    }

    /** An IP address (v4, or v6 with a colon) as iPAddress, anything else that is a DNS name as dNSName. */
    static GeneralName generalName(String host) {
        if (IPV4.matcher(host).matches() || host.contains(":")) {
            try {
                return new GeneralName(GeneralName.iPAddress, host);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--host " + host + " is not a valid IP address");
            }
        }
        if (!DNS_NAME.matcher(host).matches() || host.length() > 253) {
            throw new IllegalArgumentException("--host " + host + " is neither a DNS name nor an IP address");
        }
        return new GeneralName(GeneralName.dNSName, host);
    }

    private X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair pair, Duration validity) {
        Instant now = Instant.now();
        return new JcaX509v3CertificateBuilder(issuer, new BigInteger(127, random).add(BigInteger.ONE),
                Date.from(now.minus(CLOCK_SKEW)), Date.from(now.plus(validity)), subject, pair.getPublic());
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey issuerKey)
            throws GeneralSecurityException {
        try {
            return new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder(SIGNATURE).build(issuerKey)));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException(e.getMessage(), e);
        }
    }

    private static X500Name name(String commonName) {
        return new X500NameBuilder(BCStyle.INSTANCE)
                .addRDN(BCStyle.O, "machxp development")
                .addRDN(BCStyle.CN, commonName)
                .build();
    }

    private KeyPair ecKeyPair() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"), random);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM cannot make EC P-256 keys: " + e.getMessage(), e);
        }
    }

    private static String pem(Object object) {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(object);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }
}
