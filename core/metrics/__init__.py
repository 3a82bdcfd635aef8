"""Shape metrics: distances (Chamfer, EMD, voxel IoU, F-score) and distribution metrics (MMD, COV, 1-NNA, JSD).

Definitions follow PointFlow (points), Achlioptas et al. (JSD) and the KAIST CS492(D) evaluation (voxels);
each function's docstring names its source.
"""
from core.metrics.distances import (chamfer_distance, earth_movers_distance, emd_exact, emd_sinkhorn, f_score,
                                    pairwise_chamfer, pairwise_emd, pairwise_iou, voxel_iou)
from core.metrics.distributions import jsd_point_sets, jsd_voxel_sets, mmd_cov, one_nn_accuracy
from core.metrics.evaluation import point_set_metrics, voxel_set_metrics
from core.metrics.normalisation import NORMALISATIONS, normalise_clouds

__all__ = ["NORMALISATIONS", "chamfer_distance", "earth_movers_distance", "emd_exact", "emd_sinkhorn", "f_score",
           "jsd_point_sets", "jsd_voxel_sets", "mmd_cov", "normalise_clouds", "one_nn_accuracy", "pairwise_chamfer",
           "pairwise_emd", "pairwise_iou", "point_set_metrics", "voxel_iou", "voxel_set_metrics"]
