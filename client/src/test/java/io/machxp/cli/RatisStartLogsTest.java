package io.machxp.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.net.URL;
import org.junit.jupiter.api.Test;

/**
 * The command's logging (its logback.xml) keeps Ratis's own report of a replica whose Raft port is
 * in use off the terminal: the replica says it in one sentence (CliErrorsTest). Ratis 3.3.0 logs
 * that failure from its gRPC service ({@code GrpcServicesImpl}, an ERROR with the stack trace,
 * before it would exit) and from {@code LifeCycle} (a WARN and an ERROR with stack traces for the
 * gRPC service, and again for the Raft server). The configuration is read into a logging context
 * of the test's own, so that nothing else in this JVM changes.
 */
class RatisStartLogsTest {
    @Test
    void ratisReportOfAFailedStartIsNotLogged() throws Exception {
        URL config = RatisStartLogsTest.class.getClassLoader().getResource("logback.xml");
        assertThat(config).as("the command's logback.xml on the classpath").isNotNull();
        LoggerContext context = new LoggerContext();
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        configurator.doConfigure(config);
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.setContext(context);
        logged.start();
        context.getLogger(Logger.ROOT_LOGGER_NAME).addAppender(logged);
        try {
            for (Class<?> c : new Class<?>[] {org.apache.ratis.util.LifeCycle.class,
                    org.apache.ratis.grpc.server.GrpcServicesImpl.class}) {
                Logger ratis = context.getLogger(c.getName());
                ratis.warn("a-{}: Failed to start (state=STARTING)", c.getSimpleName());
                ratis.error("a-{} has failed (STARTING -> EXCEPTION)", c.getSimpleName());
            }
            context.getLogger("io.machxp.cli").warn("a machxp warning");

            assertThat(logged.list).extracting(ILoggingEvent::getFormattedMessage).containsExactly("a machxp warning");
        } finally {
            context.stop();
        }
    }
}
