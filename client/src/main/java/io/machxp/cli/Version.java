package io.machxp.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine;

/**
 * machxp --version: the project's version and the git commit it was built from, both written into
 * io/machxp/cli/git.properties at build time (git-commit-id-maven-plugin). A build from a tree
 * without .git (a source archive) has the version and says the commit is unknown.
 */
final class Version implements CommandLine.IVersionProvider {
    static final String RESOURCE = "git.properties";
    static final String VERSION = "version.properties";

    @Override
    public String[] getVersion() {
        return new String[] {line(load())};
    }

    /** git.properties, with git.build.version from version.properties when git left none. */
    static Properties load() {
        Properties p = read(RESOURCE);
        String version = read(VERSION).getProperty("version");
        if (version != null && !version.startsWith("$")) {
            p.putIfAbsent("git.build.version", version);
        }
        return p;
    }

    private static Properties read(String resource) {
        Properties p = new Properties();
        try (InputStream in = Version.class.getResourceAsStream(resource)) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            // no build information: the line says so
        }
        return p;
    }

    /** "machxp 0.1.0-SNAPSHOT (commit 5f71bbd, 2026-12-02T20:02:50Z)", "+ local changes" when dirty. */
    static String line(Properties p) {
        String version = p.getProperty("git.build.version");
        if (version == null) {
            String manifest = Machxp.class.getPackage().getImplementationVersion();
            version = manifest != null ? manifest : "development (no build information)";
        }
        String commit = p.getProperty("git.commit.id.abbrev", "");
        if (commit.isEmpty()) {
            return "machxp " + version + " (commit unknown: built outside a git checkout)";
        }
        String dirty = Boolean.parseBoolean(p.getProperty("git.dirty")) ? " + local changes" : "";
        return "machxp " + version + " (commit " + commit + dirty + ", " + p.getProperty("git.commit.time", "?") + ")";
    }
}
