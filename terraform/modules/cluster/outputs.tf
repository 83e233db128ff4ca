output "cluster_name" {
  description = "EKS cluster name (aws eks update-kubeconfig --name ...)."
  value       = aws_eks_cluster.this.name
}

output "cluster_endpoint" {
  description = "Kubernetes API endpoint."
  value       = aws_eks_cluster.this.endpoint
}

output "cluster_security_group_id" {
  description = "Security group EKS attaches to the control plane and managed nodes; databases and caches admit it."
  value       = aws_eks_cluster.this.vpc_config[0].cluster_security_group_id
}

output "oidc_provider_arn" {
  description = "IRSA OIDC provider."
  value       = aws_iam_openid_connect_provider.this.arn
}

output "app_role_arn" {
  description = "IAM role for the pastebin ServiceAccount (annotation eks.amazonaws.com/role-arn)."
  value       = aws_iam_role.app.arn
}

output "cluster_autoscaler_role_arn" {
  description = "IRSA role of the cluster autoscaler (ServiceAccount kube-system/cluster-autoscaler)."
  value       = aws_iam_role.irsa["cluster-autoscaler"].arn
}

output "external_secrets_role_arn" {
  description = "IRSA role of the External Secrets Operator (ServiceAccount external-secrets/external-secrets)."
  value       = aws_iam_role.irsa["external-secrets"].arn
}
