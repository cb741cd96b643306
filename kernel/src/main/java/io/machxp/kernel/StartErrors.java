package io.machxp.kernel;

/** How a kernel's start failed, told apart for the sentence it gets (see {@link Kernel#start}). */
final class StartErrors {
    private StartErrors() {}

    /**
     * The transport's failure to connect (gRPC UNAVAILABLE without a machxp errno), not a refusal
     * by the pager nor a TLS handshake that failed (a configuration error, though also UNAVAILABLE).
     */
    static boolean unreachable(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof javax.net.ssl.SSLException || c instanceof java.security.GeneralSecurityException) {
                return false;
            }
        }
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof io.grpc.StatusRuntimeException s) {
                return s.getStatus().getCode() == io.grpc.Status.Code.UNAVAILABLE && !PagerWord.fromPager(s);
            }
        }
        return false;
    }
}
