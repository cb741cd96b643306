package io.machxp.proto.transport;

import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Who is at the other end of a mutual-TLS connection, by its certificate's common name. A CA made
 * by {@code machxp certs} signs certificates for three kinds of process; only a kernel's, common
 * name {@value #KERNEL}, may open an XP stream to the pager or an IPC link to another kernel.
 */
public final class PeerCertificates {
    /** The common name of a kernel's certificate. */
    public static final String KERNEL = "machxp kernel";

    private PeerCertificates() {}

    /** The common name of the peer's certificate, or a description of why there is none. */
    public static String commonName(SSLSession tls) {
        try {
            Certificate[] chain = tls.getPeerCertificates();
            if (chain.length == 0 || !(chain[0] instanceof X509Certificate cert)) {
                return "a peer without an X.509 certificate";
            }
            for (Rdn rdn : new LdapName(cert.getSubjectX500Principal().getName()).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    return String.valueOf(rdn.getValue());
                }
            }
            return cert.getSubjectX500Principal().getName();
        } catch (SSLPeerUnverifiedException | InvalidNameException e) {
            return "an unverified peer";
        }
    }

    /** True if the peer's certificate is a kernel's. */
    public static boolean isKernel(SSLSession tls) {
        return KERNEL.equals(commonName(tls));
    }
}
