output "server_public_ip" {
  description = "Public (Elastic) IP of the K3s server: SSH, and the API server address in ./kubeconfig."
  value       = aws_eip.server.public_ip
}

output "server_private_ip" {
  description = "Private IP of the K3s server: the address agents join."
  value       = aws_instance.server.private_ip
}

output "agent_public_ips" {
  description = "Public IPs of the K3s agents (SSH targets of make join-workers)."
  value       = aws_instance.agent[*].public_ip
}

output "agent_private_ips" {
  description = "Private IPs of the K3s agents."
  value       = aws_instance.agent[*].private_ip
}

output "ssh_user" {
  description = "Login user of the nodes."
  value       = var.ssh_user
}

output "vpc_id" {
  description = "VPC the nodes run in."
  value       = local.vpc_id
}

output "security_group_id" {
  description = "Security group of the nodes (add rules for managed Kafka/MongoDB peering here)."
  value       = aws_security_group.cluster.id
}
