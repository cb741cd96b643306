package io.machxp.cli;

import picocli.CommandLine;

/** The version in the jar's manifest, or "development" when run from classes. */
final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        String v = Machxp.class.getPackage().getImplementationVersion();
        return new String[] {"machxp " + (v == null ? "development" : v)};
    }
}
