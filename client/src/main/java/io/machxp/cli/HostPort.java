package io.machxp.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * The HOST:PORT of a server given on the command line, checked before a connection is tried: gRPC
 * would take "localhost:notaport" for a DNS name ("Invalid DNS name") and "127.0.0.1" for port
 * 443 ("cannot reach 127.0.0.1: Connection refused"), neither saying what is wrong.
 */
final class HostPort {
    private HostPort() {}

    /** {@code value} if it is HOST:PORT with a port of 1 to 65535 (HOST may be [v6]); else a usage error. */
    static String require(CommandSpec spec, String option, String value) {
        int colon = value.lastIndexOf(':');
        String host = colon > 0 ? value.substring(0, colon) : "";
        String port = colon > 0 ? value.substring(colon + 1) : "";
        boolean ok = !host.isBlank() && (host.indexOf(':') < 0 || host.startsWith("[") && host.endsWith("]"))
                && port.matches("[0-9]{1,5}") && Integer.parseInt(port) >= 1 && Integer.parseInt(port) <= 65535;
        if (!ok) {
            throw new ParameterException(spec.commandLine(), option + " '" + value + "' is not HOST:PORT with a port "
                    + "of 1 to 65535; write e.g. 127.0.0.1:7070");
        }
        return value;
    }
}
