package io.machxp.bench.report;

import io.machxp.bench.workload.SystemResult;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.ToDoubleFunction;
import java.text.DecimalFormat;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.labels.StandardCategoryItemLabelGenerator;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.data.category.DefaultCategoryDataset;

/**
 * Charts as PNG, drawn with JFreeChart (headless): bar charts of one value per system or per
 * point on a log scale, side by side in one image.
 */
public final class BenchChart {
    private static final int PANEL_WIDTH = 640;
    private static final int HEIGHT = 520;

    private BenchChart() {}

    /** One panel: a title, its value axis label, and a value per category. */
    public record Panel<T>(String title, String axis, ToDoubleFunction<T> value) {}

    /** machxp bench's chart: throughput and p99 latency per system, each labelled with its guarantees. */
    public static void write(BenchReport report, Path file) throws IOException {
        write(file, report.results(), r -> r.guarantees() == null ? r.system()
                : r.system() + " [" + r.guarantees().brief() + "]", List.of(
                new Panel<SystemResult>("Throughput (higher is better)", "operations per second", SystemResult::opsPerSecond),
                new Panel<SystemResult>("p99 latency (lower is better)", "microseconds, lock to unlock",
                        r -> r.latencyMicros().p99())));
    }

    /** Panels side by side, one bar per item, labelled by {@code label}. */
    public static <T> void write(Path file, List<T> items, java.util.function.Function<T, String> label,
            List<Panel<T>> panels) throws IOException {
        System.setProperty("java.awt.headless", "true");
        BufferedImage image = new BufferedImage(PANEL_WIDTH * panels.size(), HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        for (int i = 0; i < panels.size(); i++) {
            Panel<T> panel = panels.get(i);
            DefaultCategoryDataset data = new DefaultCategoryDataset();
            double min = Double.MAX_VALUE;
            double max = 0;
            for (T item : items) {
                double v = Math.max(panel.value().applyAsDouble(item), 0.1);
                min = Math.min(min, v);
                max = Math.max(max, v);
                data.addValue(v, panel.axis(), label.apply(item));
            }
            // Whole decades around the data, so that bars of very different systems stay readable.
            double lower = Math.pow(10, Math.floor(Math.log10(min)));
            double upper = Math.pow(10, Math.ceil(Math.log10(max * 1.5)));
            chart(panel.title(), panel.axis(), data, lower, upper)
                    .draw(g, new Rectangle2D.Double(i * PANEL_WIDTH, 0, PANEL_WIDTH, HEIGHT));
        }
        g.dispose();
        ImageIO.write(image, "png", file.toFile());
    }

    private static JFreeChart chart(String title, String axis, DefaultCategoryDataset data, double lower,
            double upper) {
        JFreeChart chart = ChartFactory.createBarChart(title, null, axis, data, PlotOrientation.VERTICAL, false, false,
                false);
        chart.setBackgroundPaint(Color.WHITE);
        CategoryPlot plot = chart.getCategoryPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        LogAxis log = new LogAxis(axis);
        log.setBase(10);
        log.setRange(lower, upper);
        log.setAutoTickUnitSelection(false);
        log.setTickUnit(new NumberTickUnit(1.0)); // one tick per decade
        log.setNumberFormatOverride(new DecimalFormat("#,##0.#"));
        plot.setRangeAxis(log);
        CategoryAxis categories = plot.getDomainAxis();
        categories.setCategoryLabelPositions(CategoryLabelPositions.UP_45);
        categories.setMaximumCategoryLabelLines(2);
        BarRenderer renderer = (BarRenderer) plot.getRenderer();
        renderer.setBarPainter(new StandardBarPainter());
        renderer.setSeriesPaint(0, new Color(0x2f6fb0));
        renderer.setShadowVisible(false);
        renderer.setDefaultItemLabelGenerator(new StandardCategoryItemLabelGenerator("{2}", new BarLabelFormat()));
        renderer.setDefaultItemLabelsVisible(true);
        return chart;
    }

    /** Bar labels: whole numbers with grouping, one decimal below 10 (a p99 of 0.2 µs is not 0). */
    private static final class BarLabelFormat extends DecimalFormat {
        private final DecimalFormat small = new DecimalFormat("0.#");

        BarLabelFormat() {
            super("#,##0");
        }

        @Override
        public StringBuffer format(double number, StringBuffer toAppendTo, java.text.FieldPosition pos) {
            return Math.abs(number) < 10 ? small.format(number, toAppendTo, pos) : super.format(number, toAppendTo, pos);
        }
    }
}
