package io.machxp.pager.core;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * For the fuzz tests: the cores log each refusal at WARN, and millions of them would only slow the
 * fuzzer down, so their logs say only errors while the test class runs.
 */
public final class QuietCoreLogs implements BeforeAllCallback, AfterAllCallback {
    private static final Logger CORE_LOG = (Logger) LoggerFactory.getLogger("io.machxp");
    private Level level;

    @Override
    public void beforeAll(ExtensionContext context) {
        level = CORE_LOG.getLevel();
        CORE_LOG.setLevel(Level.ERROR);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        CORE_LOG.setLevel(level);
    }
}
