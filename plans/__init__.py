"""The sample plans: the ministry's 2025 programme, its campaigns and approvers, copied by `musharaka init`."""
