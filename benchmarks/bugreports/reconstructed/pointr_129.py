"""Reconstructed, not the original code: AdaPoinTr's query generator (models/AdaPoinTr.py, PCTransformer).

Report: https://github.com/yuxumin/PoinTr/issues/129 (code at 2e53e72, the last commit before the report): the
parameters of the query ranking are not updated unless find_unused_parameters is on, and the maintainer confirms
"it won't be optimized" (a gumbel-softmax version is the intended one). `query_ranking` scores the coarse points,
and only `argsort` of its output is used, to pick which points become queries. The block keeps PCTransformer's and
AdaPoinTr's shape (coarse prediction, query ranking, denoise queries in training, rebuild head, the two losses of
`get_loss`); the grouper, the transformer encoder and decoder and FPS are stood in for by small layers and slices.
"""
import torch
import torch.nn as nn


def chamfer_l1(a, b):
    dist = torch.cdist(a, b)
    return (dist.min(dim=2)[0].mean() + dist.min(dim=1)[0].mean()) / 2


class PCTransformer(nn.Module):
    def __init__(self, dim=32, num_query=8, feat=16):
        super().__init__()
        self.num_query = num_query
        self.grouper = nn.Linear(3, feat)
        self.pos_embed = nn.Sequential(nn.Linear(3, 16), nn.GELU(), nn.Linear(16, dim))
        self.input_proj = nn.Sequential(nn.Linear(feat, 32), nn.GELU(), nn.Linear(32, dim))
        self.encoder = nn.Linear(dim, dim)
        self.increase_dim = nn.Sequential(nn.Linear(dim, 64), nn.GELU(), nn.Linear(64, 64))
        self.coarse_pred = nn.Sequential(nn.Linear(64, 64), nn.GELU(), nn.Linear(64, 3 * num_query))
        self.mlp_query = nn.Sequential(nn.Linear(64 + 3, 64), nn.GELU(), nn.Linear(64, dim))
        self.mem_link = nn.Identity()
        self.decoder_q = nn.Linear(dim, dim)
        self.decoder_v = nn.Linear(dim, dim)
        self.query_ranking = nn.Sequential(
            nn.Linear(3, 16), nn.GELU(), nn.Linear(16, 16), nn.GELU(), nn.Linear(16, 1), nn.Sigmoid()
        )

    def decoder(self, q, v, q_pos, v_pos):
        return self.decoder_q(q) + self.decoder_v(v).mean(dim=1, keepdim=True)

    def forward(self, xyz):
        bs = xyz.size(0)
        coor = xyz[:, ::2]  # stands in for the grouper's centers
        f = self.grouper(coor)
        x = self.encoder(self.input_proj(f) + self.pos_embed(coor))
        global_feature = torch.max(self.increase_dim(x), dim=1)[0]

        coarse = self.coarse_pred(global_feature).reshape(bs, -1, 3)
        coarse_inp = xyz[:, : self.num_query // 2]  # stands in for misc.fps(xyz, num_query // 2)
        coarse = torch.cat([coarse, coarse_inp], dim=1)
        mem = self.mem_link(x)

        # query selection
        query_ranking = self.query_ranking(coarse)
        idx = torch.argsort(query_ranking, dim=1, descending=True)
        coarse = torch.gather(coarse, 1, idx[:, : self.num_query].expand(-1, -1, coarse.size(-1)))

        if self.training:
            picked_points = xyz[:, :4] + 0.01 * torch.randn_like(xyz[:, :4])  # fps + jitter
            coarse = torch.cat([coarse, picked_points], dim=1)
            denoise_length = 4
            q = self.mlp_query(torch.cat([global_feature.unsqueeze(1).expand(-1, coarse.size(1), -1), coarse], -1))
            q = self.decoder(q=q, v=mem, q_pos=coarse, v_pos=coor)
            return q, coarse, denoise_length
        q = self.mlp_query(torch.cat([global_feature.unsqueeze(1).expand(-1, coarse.size(1), -1), coarse], -1))
        q = self.decoder(q=q, v=mem, q_pos=coarse, v_pos=coor)
        return q, coarse, 0


class AdaPoinTr(nn.Module):
    def __init__(self, dim=32, num_query=8, factor=4):
        super().__init__()
        self.num_query = num_query
        self.factor = factor
        self.base_model = PCTransformer(dim, num_query)
        self.decode_head = nn.Linear(dim, 3 * factor)
        self.increase_dim = nn.Sequential(nn.Conv1d(dim, 64, 1), nn.BatchNorm1d(64), nn.LeakyReLU(0.2),
                                          nn.Conv1d(64, 64, 1))
        self.reduce_map = nn.Linear(dim + 64 + 3, dim)

    def get_loss(self, ret, gt):
        pred_coarse, denoised_coarse, denoised_fine, pred_fine = ret
        idx = torch.cdist(denoised_coarse, gt).topk(self.factor, dim=-1, largest=False)[1]  # knn_point
        denoised_target = torch.stack([g[i] for g, i in zip(gt, idx)]).reshape(gt.size(0), -1, 3)
        loss_denoised = chamfer_l1(denoised_fine, denoised_target) * 0.5
        loss_recon = chamfer_l1(pred_coarse, gt) + chamfer_l1(pred_fine, gt)
        return loss_denoised, loss_recon

    def forward(self, xyz):
        q, coarse_point_cloud, denoise_length = self.base_model(xyz)
        B, M, C = q.shape
        global_feature = self.increase_dim(q.transpose(1, 2)).transpose(1, 2)
        global_feature = torch.max(global_feature, dim=1)[0]
        rebuild_feature = torch.cat([global_feature.unsqueeze(-2).expand(-1, M, -1), q, coarse_point_cloud], dim=-1)
        rebuild_feature = self.reduce_map(rebuild_feature)
        relative_xyz = self.decode_head(rebuild_feature).reshape(B, M, -1, 3)
        rebuild_points = relative_xyz + coarse_point_cloud.unsqueeze(-2)
        if self.training:
            pred_fine = rebuild_points[:, :-denoise_length].reshape(B, -1, 3)
            pred_coarse = coarse_point_cloud[:, :-denoise_length]
            denoised_fine = rebuild_points[:, -denoise_length:].reshape(B, -1, 3)
            denoised_coarse = coarse_point_cloud[:, -denoise_length:]
            return pred_coarse, denoised_coarse, denoised_fine, pred_fine
        return coarse_point_cloud, rebuild_points.reshape(B, -1, 3)


def train_step(model, batch):
    partial, gt = batch
    ret = model(partial)
    sparse_loss, dense_loss = model.get_loss(ret, gt)
    return sparse_loss + dense_loss


def build():
    torch.manual_seed(0)
    model = AdaPoinTr()
    batches = [(torch.randn(2, 16, 3), torch.randn(2, 32, 3)) for _ in range(2)]
    return {"model": model, "step": train_step, "batches": batches}
