"""Pure Plotly figure builders: NumPy in, go.Figure out (no Streamlit, no JAX)."""
from figures.curves import (
                            Series,
                            minimum_ratio_figure,
                            per_parameter_figure,
                            probability_bars_figure,
                            scatter_figure,
                            spectrum_figure,
                            step_curves_figure,
                            wide_range,
)
from figures.export import figure_html, grid_csv, trajectories_csv
from figures.landscape import (
                            PathSet,
                            add_critical_curves,
                            contour_figure,
                            race_figure,
                            surface3d_figure,
                            value_map_figure,
)
from figures.lines import (
                            LinePath,
                            batch_surfaces_figure,
                            line_race_figure,
                            timing_figure,
                            train_test_figure,
                            weights_figure,
)
from figures.local import (
                            SIGNATURE_LABELS,
                            Arrow,
                            add_arrows,
                            eigen_arrows,
                            mark_point,
                            point_marker,
                            signature_figure,
                            step_arrows,
                            step_triangle,
                            taylor_figure,
                            taylor_map_figure,
)
from figures.style import (
                            MAX_FRAMES,
                            PATH_COLOR_NAMES,
                            PATH_COLORS,
                            for_display,
                            frame_indices,
                            frames_for,
                            log_axis,
                            log_ticks,
                            path_dash,
                            power_of_ten_text,
                            superscript,
)
from figures.surface_picture import color_values
