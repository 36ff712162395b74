/* Side-by-side bars on a category x-axis (asv's graph page with a parameter on the x-axis).
 *
 * flot-orderbars 1.0.0 measures the x-axis from the series' raw data, which on a category
 * axis holds the category names (strings), so every offset it computes is NaN and only the
 * middle series is drawn (it reads every series, while flot processes them one by one).
 * This flot plugin runs just before it and gives it numbers: in every series, a category
 * name becomes the index that flot's categories plugin assigned to it on the axis.
 * tools/dashboard/publish.py loads it right before jquery.flot.orderBars.js. */
(function ($) {
    function numericCategoryX(plot, series) {
        var index = series.xaxis.categories;
        if (!series.bars || !series.bars.show || series.xaxis.options.mode !== "categories" ||
            !index) {
            return;
        }
        $.each(plot.getData(), function (i, s) {
            s.data = $.map(s.data, function (row) {
                var copy = row === null ? row : row.slice();
                if (copy !== null && typeof copy[0] === "string" && copy[0] in index) {
                    copy[0] = index[copy[0]];
                }
                return [copy];
            });
        });
    }
    $.plot.plugins.push({
        init: function (plot) { plot.hooks.processDatapoints.push(numericCategoryX); },
        name: "orderBarsCategoriesFix",
        version: "1.0"
    });
})(jQuery);
