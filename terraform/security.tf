# One security group for every node: SSH and the K3s API from the admin CIDR only, everything
# between the nodes (flannel VXLAN, kubelet, metrics), optional HTTP/NodePorts, all egress.

resource "aws_security_group" "cluster" {
  name        = "${var.name_prefix}-k3s"
  description = "K3s nodes of ${var.name_prefix}"
  vpc_id      = local.vpc_id

  tags = {
    Name = "${var.name_prefix}-k3s"
  }
}

resource "aws_vpc_security_group_ingress_rule" "ssh" {
  security_group_id = aws_security_group.cluster.id
  description       = "SSH from the admin CIDR"
  cidr_ipv4         = var.admin_cidr
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
}

resource "aws_vpc_security_group_ingress_rule" "k3s_api" {
  security_group_id = aws_security_group.cluster.id
  description       = "K3s API server from the admin CIDR"
  cidr_ipv4         = var.admin_cidr
  ip_protocol       = "tcp"
  from_port         = 6443
  to_port           = 6443
}

resource "aws_vpc_security_group_ingress_rule" "intra_cluster" {
  security_group_id            = aws_security_group.cluster.id
  description                  = "All traffic between cluster nodes"
  referenced_security_group_id = aws_security_group.cluster.id
  ip_protocol                  = "-1"
}

resource "aws_vpc_security_group_ingress_rule" "http" {
  count = length(var.http_ingress_cidrs)

  security_group_id = aws_security_group.cluster.id
  description       = "HTTP to the ingress controller"
  cidr_ipv4         = var.http_ingress_cidrs[count.index]
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
}

resource "aws_vpc_security_group_ingress_rule" "https" {
  count = length(var.http_ingress_cidrs)

  security_group_id = aws_security_group.cluster.id
  description       = "HTTPS to the ingress controller"
  cidr_ipv4         = var.http_ingress_cidrs[count.index]
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_ingress_rule" "node_ports" {
  count = var.expose_node_ports ? length(var.http_ingress_cidrs) : 0

  security_group_id = aws_security_group.cluster.id
  description       = "Kubernetes NodePort services"
  cidr_ipv4         = var.http_ingress_cidrs[count.index]
  ip_protocol       = "tcp"
  from_port         = 30000
  to_port           = 32767
}

resource "aws_vpc_security_group_egress_rule" "all" {
  security_group_id = aws_security_group.cluster.id
  description       = "All outbound traffic (images, packages, managed Kafka/MongoDB)"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "-1"
}
